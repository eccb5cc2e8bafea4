"""IAM for tuning on retrain (docs/tuning.md) and the Model Registry's list call, on the SAM-translated template:
each role may do exactly what its tuning step calls, on Driftline's tuning jobs only."""

from __future__ import annotations

from retrain_launcher.tuning import tuning_job_name
from samlocal.sagemaker_tuner import trial_name

from tests.template.iam_model import ACCOUNT, REGION, Stack, allows
from tests.template.test_security import translated

SM = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}"


def test_the_state_machine_may_run_driftlines_tuning_jobs_only() -> None:
    stack = Stack(translated())
    role = stack.role_statements("PipelineStateMachineRole")
    name = tuning_job_name("example-classifier", "run-1")
    for action in ("CreateHyperParameterTuningJob", "DescribeHyperParameterTuningJob", "StopHyperParameterTuningJob",
                   "ListTrainingJobsForHyperParameterTuningJob", "AddTags"):
        assert allows(role, f"sagemaker:{action}", f"{SM}:hyper-parameter-tuning-job/{name}"), action
        assert not allows(role, f"sagemaker:{action}", f"{SM}:hyper-parameter-tuning-job/someone-elses"), action
    # the .sync integration's managed rule, and the SageMaker role the trials run as
    assert allows(role, "events:PutRule",
                  f"arn:aws:events:{REGION}:{ACCOUNT}:rule/StepFunctionsGetEventsForSageMakerTuningJobsRule")
    assert allows(role, "iam:PassRole", stack.arn("SageMakerExecutionRole"))


def test_the_retrain_launcher_may_read_the_tuning_result_only() -> None:
    stack = Stack(translated())
    role = stack.role_statements("RetrainLauncherFunctionRole")
    name = tuning_job_name("example-classifier", "run-1")
    assert allows(role, "sagemaker:DescribeHyperParameterTuningJob", f"{SM}:hyper-parameter-tuning-job/{name}")
    assert allows(role, "sagemaker:DescribeTrainingJob", f"{SM}:training-job/{trial_name(name, 2)}")
    assert not allows(role, "sagemaker:CreateHyperParameterTuningJob", f"{SM}:hyper-parameter-tuning-job/{name}")
    assert not allows(role, "sagemaker:DescribeTrainingJob", f"{SM}:training-job/someone-elses")


def test_listing_model_packages_is_scoped_to_driftlines_groups() -> None:
    """ListModelPackages has the ``model-package`` resource type (Service Authorization Reference); a list of a group
    is authorised on ``model-package/<group>/*`` (the SageMaker guide's model-group resource policies)."""
    stack = Stack(translated())
    for role_name in ("DeployerFunctionRole", "ApiFunctionRole"):
        role = stack.role_statements(role_name)
        assert allows(role, "sagemaker:ListModelPackages", f"{SM}:model-package/driftline-example-classifier/*")
        assert not allows(role, "sagemaker:ListModelPackages", f"{SM}:model-package/another-team/*"), role_name
        assert not allows(role, "sagemaker:ListModelPackages", "*"), role_name
