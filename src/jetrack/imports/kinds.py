"""The importers by kind (the `kind` column of site_imports), and deleting an import."""

from __future__ import annotations

from pathlib import Path

from jetrack.imports import registry
from jetrack.imports.access_log import AccessLogImporter
from jetrack.imports.context import Importer
from jetrack.imports.goatcounter import GoatCounterImporter
from jetrack.imports.plausible import PLAUSIBLE
from jetrack.imports.umami import UmamiImporter
from jetrack.store.stores import Stores

# What imports each kind; the site settings page offers them in this order.
IMPORTERS: dict[str, Importer] = {
    "plausible": PLAUSIBLE,
    "access-log": AccessLogImporter(),
    "goatcounter": GoatCounterImporter(),
    "umami": UmamiImporter(),
}


class ImportBusy(Exception):
    """The import is running: it can be deleted once it is over."""


def remove_import(stores: Stores, site_id: int, import_id: int) -> bool:
    """Delete an import's rows, then its record; False when the site has no such import."""
    with stores.control.session() as session:
        record = registry.get_import(session, import_id, site_id)
        if record is None:
            return False
        if record.status == registry.RUNNING:
            raise ImportBusy(import_id)
        kind, upload = record.kind, record.params.get("path")
    importer = IMPORTERS.get(kind)
    if importer is not None:
        importer.delete(stores, site_id, import_id)
    with stores.control.session() as session:
        registry.delete_import(session, import_id)
    if upload:  # a queued import's file (one that ran is gone already)
        registry.discard_upload(stores.settings, Path(upload))
    return True
