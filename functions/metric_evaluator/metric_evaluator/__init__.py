"""metric_evaluator: metrics of the live model on a labelled window; paired challenger vs champion scoring."""
