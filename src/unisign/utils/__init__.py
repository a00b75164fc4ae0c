"""What every room uses, importing nothing of the package: errors, argument types, checks, checksums, logs, dtypes."""
