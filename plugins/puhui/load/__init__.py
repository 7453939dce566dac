"""Loading validated batches into the warehouse's raw layer, with quarantine and audit."""
