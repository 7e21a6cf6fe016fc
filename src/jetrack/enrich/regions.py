"""Map geo database region names to ISO 3166-2 codes, and ISO codes to display names."""

from __future__ import annotations

import gettext
import re
import unicodedata
from functools import cache, lru_cache

import pycountry

# Words that geo databases and ISO 3166-2 add or drop around the same place name
# ("Riyadh Region", "Nairobi County", "Beijing Shi", "State of Berlin").
_NOISE_WORDS = frozenset(
    [
        "autonomous",
        "capital",
        "city",
        "county",
        "department",
        "district",
        "federal",
        "governorate",
        "kraj",
        "lan",
        "metropolitan",
        "municipality",
        "oblast",
        "of",
        "prefecture",
        "province",
        "region",
        "republic",
        "sheng",
        "shi",
        "state",
        "territory",
        "voivodeship",
        "zizhiqu",
        "the",
        "d",
        "c",
        "f",
        "d",
    ]
)

# English names used by geo databases where ISO 3166-2 and its English translation
# keep the local name. Only places seen often enough to matter are listed.
_ALIASES: dict[str, dict[str, str]] = {
    "AE": {"abu dhabi": "AE-AZ"},
    "BD": {"dhaka division": "BD-C"},
    "BG": {"sofia grad": "BG-22"},
    "BR": {"federal district": "BR-DF"},
    "CL": {"santiago metropolitan": "CL-RM"},
    "CN": {"inner mongolia": "CN-NM"},
    "DZ": {"algiers": "DZ-16"},
    "FI": {"tampere": "FI-11"},
    "GR": {"attica": "GR-I"},
    "ID": {"west java": "ID-JB", "east java": "ID-JI", "central java": "ID-JT"},
    "MY": {"kuala lumpur": "MY-14"},
    "PT": {"lisbon": "PT-11"},
    "RO": {"bucharest": "RO-B"},
    "SA": {"riyadh region": "SA-01", "mecca region": "SA-02"},
    "SK": {"bratislava region": "SK-BL"},
    "AR": {"buenos aires f d": "AR-C"},
    "AT": {
        "vienna": "AT-9",
        "lower austria": "AT-3",
        "upper austria": "AT-4",
        "styria": "AT-6",
        "tyrol": "AT-7",
        "carinthia": "AT-2",
    },
    "BE": {"brussels capital": "BE-BRU", "flanders": "BE-VLG", "wallonia": "BE-WAL"},
    "CH": {
        "zurich": "CH-ZH",
        "geneva": "CH-GE",
        "bern": "CH-BE",
        "vaud": "CH-VD",
        "basel city": "CH-BS",
        "lucerne": "CH-LU",
    },
    "CO": {"bogota d c": "CO-DC"},
    "CZ": {"prague": "CZ-10"},
    "DE": {
        "hesse": "DE-HE",
        "north rhine westphalia": "DE-NW",
        "lower saxony": "DE-NI",
        "saxony": "DE-SN",
        "state of berlin": "DE-BE",
        "rhineland palatinate": "DE-RP",
        "saxony anhalt": "DE-ST",
        "thuringia": "DE-TH",
        "mecklenburg vorpommern": "DE-MV",
        "mecklenburg western pomerania": "DE-MV",
        "land berlin": "DE-BE",
    },
    "DK": {
        "south denmark": "DK-83",
        "capital region": "DK-84",
        "central jutland": "DK-82",
        "north denmark": "DK-81",
        "southern denmark": "DK-83",
        "zealand": "DK-85",
    },
    "EG": {"cairo": "EG-C", "giza": "EG-GZ", "alexandria": "EG-ALX"},
    "ES": {
        "castille and leon": "ES-CL",
        "canary islands": "ES-CN",
        "castille la mancha": "ES-CM",
        "catalonia": "ES-CT",
        "andalusia": "ES-AN",
        "valencia": "ES-VC",
        "basque country": "ES-PV",
        "galicia": "ES-GA",
        "madrid": "ES-MD",
    },
    "FR": {
        "brittany": "FR-BRE",
        "new aquitaine": "FR-NAQ",
        "normandy": "FR-NOR",
        "rhone alpes": "FR-ARA",
        "auvergne rhone alpes": "FR-ARA",
        "provence alpes cote d azur": "FR-PAC",
    },
    "HK": {"kowloon": "HK-KKC", "hong kong": "HK-HCW", "new territories": "HK-NTW"},
    "IL": {"tel aviv": "IL-TA", "jerusalem": "IL-JM", "haifa": "IL-HA"},
    "IT": {
        "lombardy": "IT-25",
        "lazio": "IT-62",
        "piedmont": "IT-21",
        "tuscany": "IT-52",
        "sicily": "IT-82",
        "sardinia": "IT-88",
        "apulia": "IT-75",
        "aosta valley": "IT-23",
        "trentino alto adige": "IT-32",
    },
    "KR": {"seoul": "KR-11", "busan": "KR-26", "incheon": "KR-28", "gyeonggi do": "KR-41"},
    "MX": {"mexico city": "MX-CMX"},
    "NL": {
        "north holland": "NL-NH",
        "south holland": "NL-ZH",
        "north brabant": "NL-NB",
        "zeeland": "NL-ZE",
    },
    "PL": {
        "mazovia": "PL-14",
        "lesser poland": "PL-12",
        "silesia": "PL-24",
        "greater poland": "PL-30",
        "lower silesia": "PL-02",
        "pomerania": "PL-22",
        "lodz voivodeship": "PL-10",
    },
    "RU": {
        "krasnodar krai": "RU-KDA",
        "moscow": "RU-MOW",
        "st petersburg": "RU-SPE",
        "moscow oblast": "RU-MOS",
    },
    "TH": {"bangkok": "TH-10"},
    "TW": {"taiwan": "TW-TPE", "taipei": "TW-TPE"},
    "UA": {"kyiv city": "UA-30", "kyiv": "UA-30"},
    "VN": {"hanoi": "VN-HN", "ho chi minh": "VN-SG", "ho chi minh hcmc": "VN-SG"},
}


def _normalise(name: str) -> str:
    """Lower-case ASCII words: "Île-de-France" -> "ile de france"."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", " ", ascii_name.lower()).strip()


def _core(name: str) -> str:
    """The normalised name without administrative words ("beijing shi" -> "beijing")."""
    words = [word for word in _normalise(name).split() if word not in _NOISE_WORDS]
    return " ".join(words)


def _spellings(name: str, english: str) -> set[str]:
    """Every form under which an ISO subdivision name may appear in a geo database."""
    forms = {name, english}
    for form in list(forms):
        # "Catalunya [Cataluña]" and "Madrid, Comunidad de" carry two spellings each.
        forms.update(part.strip() for part in re.split(r"[\[\]]", form) if part.strip())
        if "," in form:
            head, _, tail = form.partition(",")
            forms.update({head.strip(), f"{tail.strip()} {head.strip()}"})
    return {key for form in forms for key in (_normalise(form), _core(form)) if key}


@cache
def _index(country_code: str) -> dict[str, str]:
    """Spellings of one country's subdivisions -> ISO 3166-2 code; top-level ones win."""
    english = gettext.translation(
        "iso3166-2", pycountry.LOCALES_DIR, languages=["en"], fallback=True
    )
    subdivisions = pycountry.subdivisions.get(country_code=country_code) or []  # type: ignore[no-untyped-call]
    # Top-level subdivisions first so that "Moskva" the city beats a same-named district;
    # then by code: pycountry gives a set, whose order changes from process to process, and
    # a spelling two subdivisions share ("Maputo": the province and the city) must name the
    # same one in every process (the IPv4 range table is built in another).
    ordered = sorted(subdivisions, key=lambda sub: (sub.parent_code is not None, sub.code))
    index: dict[str, str] = {}
    for sub in ordered:
        for key in _spellings(sub.name, english.gettext(sub.name)):
            index.setdefault(key, sub.code)
    for key, code in _ALIASES.get(country_code, {}).items():
        index[key] = code
    return index


def warm_up() -> None:
    for country in {sub.country_code for sub in pycountry.subdivisions}:
        _index(country)


@lru_cache(maxsize=8192)
def region_code(country_code: str, region: str) -> str:
    """ISO 3166-2 code ("US-CA") for a region name in a country, or "" when unsure."""
    if not country_code or not region:
        return ""
    index = _index(country_code.upper())
    for key in (_normalise(region), _core(region)):
        if key and key in index:
            return index[key]
    # "Stockholm" for "Stockholms län": accept a unique prefix match only.
    core = _core(region)
    if len(core) >= 4:
        matches = {code for key, code in index.items() if key.startswith(core)}
        if len(matches) == 1:
            return matches.pop()
    return ""


@lru_cache(maxsize=1024)
def country_name(code: str) -> str:
    """English short name of an ISO 3166-1 alpha-2 country ("DE" -> "Germany"), or ""."""
    country = pycountry.countries.get(alpha_2=code.upper()) if len(code) == 2 else None
    if country is None:
        return ""
    return str(getattr(country, "common_name", None) or country.name)


@lru_cache(maxsize=8192)
def region_name(code: str) -> str:
    """Name of an ISO 3166-2 subdivision ("US-CA" -> "California"), in English where known."""
    subdivision = pycountry.subdivisions.get(code=code.upper()) if "-" in code else None  # type: ignore[no-untyped-call]
    if subdivision is None:
        return ""
    english = gettext.translation(
        "iso3166-2", pycountry.LOCALES_DIR, languages=["en"], fallback=True
    )
    return english.gettext(subdivision.name)
