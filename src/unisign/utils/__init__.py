"""What every room uses and that imports nothing of the package: errors, input checks, checksums, logs, precision."""
