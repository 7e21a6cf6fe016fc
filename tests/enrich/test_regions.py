"""Region names from the geo database map to ISO 3166-2 codes; codes map to names."""

from __future__ import annotations

import pycountry
import pytest

from jetrack.enrich import regions
from jetrack.enrich.regions import country_name, region_code, region_name


@pytest.mark.parametrize(
    ("country", "region", "code"),
    [
        ("US", "California", "US-CA"),
        ("US", "New York", "US-NY"),
        ("GB", "England", "GB-ENG"),
        ("GB", "Scotland", "GB-SCT"),
        ("DE", "Bavaria", "DE-BY"),
        ("DE", "Hesse", "DE-HE"),
        ("DE", "North Rhine-Westphalia", "DE-NW"),
        ("DE", "State of Berlin", "DE-BE"),
        ("FR", "Île-de-France", "FR-IDF"),
        ("JP", "Tokyo", "JP-13"),
        ("SE", "Stockholm", "SE-AB"),
        ("CN", "Beijing", "CN-BJ"),
        ("AU", "New South Wales", "AU-NSW"),
        ("BR", "Sao Paulo", "BR-SP"),
        ("CA", "Quebec", "CA-QC"),
        ("IN", "Maharashtra", "IN-MH"),
        ("NL", "North Holland", "NL-NH"),
        ("RU", "Moscow", "RU-MOW"),
        ("KE", "Nairobi County", "KE-30"),
        ("ES", "Catalonia", "ES-CT"),
        ("us", "california", "US-CA"),
        ("US", "Atlantis", ""),
        ("US", "", ""),
        ("", "California", ""),
        ("ZZ", "Somewhere", ""),
    ],
)
def test_region_code(country: str, region: str, code: str) -> None:
    assert region_code(country, region) == code


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("US", "United States"),
        ("de", "Germany"),
        ("GB", "United Kingdom"),
        ("TW", "Taiwan"),
        ("XX", ""),
        ("", ""),
        ("USA", ""),
    ],
)
def test_country_name(code: str, name: str) -> None:
    assert country_name(code) == name


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("US-CA", "California"),
        ("DE-BY", "Bavaria"),
        ("GB-ENG", "England"),
        ("US-ZZ", ""),
        ("", ""),
        ("US", ""),
    ],
)
def test_region_name(code: str, name: str) -> None:
    assert region_name(code) == name


@pytest.mark.parametrize("country", ["MZ", "RU", "FR", "US"])
def test_index_does_not_depend_on_pycountrys_order(
    country: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pycountry gives a country's subdivisions as a set, in an order that changes from
    process to process; a spelling two of them share ("Maputo": the province MZ-L and the
    city MZ-MPM) names the same one whatever the order (the IPv4 range table is built in
    another process than the one that looks addresses up)."""
    subdivisions = sorted(
        pycountry.subdivisions.get(country_code=country),  # type: ignore[no-untyped-call]
        key=lambda s: s.code,
    )
    built = []
    for order in (subdivisions, subdivisions[::-1]):
        monkeypatch.setattr(pycountry.subdivisions, "get", lambda order=order, **_: order)
        built.append(regions._index.__wrapped__(country))
    assert built[0] == built[1]
    if country == "MZ":
        assert built[0]["maputo"] == "MZ-L"
