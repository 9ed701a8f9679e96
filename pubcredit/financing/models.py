"""信易贷 models."""
