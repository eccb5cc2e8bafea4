"""deployer: SageMaker model, endpoint config and blue/green endpoint update with auto-rollback; champion records."""
