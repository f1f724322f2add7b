"""Object-storage access over fsspec (S3, Azure Blob/ADLS, GCS, local paths)."""
