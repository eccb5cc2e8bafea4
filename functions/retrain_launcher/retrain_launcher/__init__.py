"""retrain_launcher: run bookkeeping, the retrain policy, the per-model lock and the training request."""
