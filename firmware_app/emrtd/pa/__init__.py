"""Passive authentication: SOD signature, Document Signer chain to a CSCA trust store, DG hashes."""
from firmware_app.emrtd.pa.errors import MasterListError, PaError, TrustStoreError, UnsupportedAlgorithm
from firmware_app.emrtd.pa.result import PaFailure, PaReason, PaResult
from firmware_app.emrtd.pa.trust_store import TrustStore, import_master_list, load_directory
from firmware_app.emrtd.pa.verify import passive_authenticate

__all__ = [
    "MasterListError", "PaError", "PaFailure", "PaReason", "PaResult", "TrustStore", "TrustStoreError",
    "UnsupportedAlgorithm", "import_master_list", "load_directory", "passive_authenticate",
]
