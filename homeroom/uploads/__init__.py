"""Upload sessions' storage: containers of uploaded CSV files, and the SAS that grants a client access to one.

``homeroom.api.blobs`` serves them over Azure Blob Storage's protocol at ``/homeroomuploads/{container}``.
"""

from homeroom.uploads.errors import BlobError, SasError, UploadError
from homeroom.uploads.sas import CONTAINER_ACCOUNT, load_sas_key, session_url, sign, verify
from homeroom.uploads.storage import BlobProperties, BlobStore, UploadLimits, open_blob_store

__all__ = ["CONTAINER_ACCOUNT", "BlobError", "BlobProperties", "BlobStore", "SasError", "UploadError", "UploadLimits",
           "load_sas_key", "open_blob_store", "session_url", "sign", "verify"]
