"""Passive authentication: SOD signature, Document Signer chain to a CSCA trust store, DG hashes."""
from firmware_app.emrtd.pa.master_list import ListImport, import_master_list
from firmware_app.emrtd.pa.result import PaFailure, PaReason, PaResult
from firmware_app.emrtd.pa.trust_store import TrustStore, load_directory
from firmware_app.emrtd.pa.verify import passive_authenticate

__all__ = [
    "ListImport", "PaFailure", "PaReason", "PaResult", "TrustStore", "import_master_list", "load_directory",
    "passive_authenticate",
]
