"""Small, named extensions to moto 5.2.x for the offline runtime.

Each extension patches one narrow place of moto, is listed in :data:`EXTENSIONS`, and has its own test
in ``tests/offline/test_moto_ext.py`` so that a moto upgrade shows exactly what broke. They are
installed once per process (:func:`install`) with the :class:`~samlocal.registry.RuntimeRegistry` they dispatch
to: each asks it for the current runtime; with none, moto behaves as shipped. The extensions live by concept in
:mod:`.lambda_events`, :mod:`.sfn`, :mod:`.sfn_map`, :mod:`.ddb` and :mod:`.locks`; none imports the runtime.

- ``lambda_dispatch``: ``LambdaSimpleBackend.invoke`` calls the real handler in-process and returns the
  Lambda runtime's error envelope with ``x-amz-function-error: Unhandled`` on an exception.
- ``events_delivery``: ``Rule.send_to_targets`` delivers to Step Functions and Lambda targets
  (``Input`` / ``InputPath`` / ``InputTransformer``), scheduled rules no longer match every event,
  disabled rules deliver nothing; ``put_events`` and S3's EventBridge notifications stamp events with
  the simulated clock; ``put_events`` refuses entries over 256 KB in all (EventBridge's entry size) with
  EventBridge's ``ValidationException``.
- ``sfn_start_execution_name``: ``start_execution`` without a name gets a UUID (AWS does the same).
- ``sfn_sim_clock``: execution start/stop dates, history timestamps, ``$$.State.EnteredTime`` and
  ``Wait`` ``Timestamp`` come from the simulated clock.
- ``sfn_fast_wait`` / ``sfn_fast_retry``: ``Wait`` states and ``Retry`` back-off advance the simulated
  clock instead of sleeping; ``.sync`` polling does not sleep 0.5 s.
- ``sfn_jsonata``: moto's JSONata hook evaluates with ``jsonata-python``.
- ``sfn_sagemaker``: ``arn:aws:states:::sagemaker:*`` (``createTrainingJob.sync`` and request/response
  calls) instead of moto's "unsupported" forwarder.
- ``sfn_keyword_path_bindings``: a ``"<Keyword>.$"`` parameter whose name is also an ASL keyword token
  (``"RoleArn.$"``, lexed as the ``Credentials`` token) is a path binding, not a literal field named
  ``RoleArn.$``: the interpreter evaluates its path, as Step Functions does.
- ``sfn_client_cache``: the interpreter reuses one boto3 client per service and region instead of
  building a new one for every task (≈15 ms each).
- ``sfn_parse_cache``: an execution re-lexes and re-parses its definition with ANTLR (≈60 ms for the pipeline);
  the parse tree is now cached per definition text and only the preprocessor (≈10 ms) runs per execution,
  so every execution still gets fresh evaluation components (retry counters, branch state). ``CreateStateMachine``
  validates a definition by parsing it too: a definition parsed before (the same template deployed again) reuses
  its tree. The tree is frozen once cached: a node's ``getText`` is computed once (the preprocessor builds its
  error messages with the whole program's text eagerly, twice per program and Map iterator per execution).
- ``sfn_jsonpath_cache``: moto parses every JSONPath (``InputPath``, ``ResultPath``, ``"x.$"``...) at every
  evaluation and ``jsonpath_ng`` builds a new PLY parser for each parse (≈0.33 ms); an expression is now parsed
  once per path text and shared (it is only read).
- ``sfn_termination_signal``: the end of an execution notifies the active runtime
  (:meth:`~samlocal.runtime.OfflineRuntime.execution_terminated`), so
  :meth:`~samlocal.stack.OfflineStack.wait_execution` waits on a condition instead of polling; the
  ended execution's evaluation environment is let go (its history, status and output are kept); the status and
  output are set under the Step Functions backend's lock (``DescribeExecution`` never sees one without the other).
- ``ddb_fast_attribute_values``: moto's generic JSON serializer walks every DynamoDB ``AttributeValue``
  member by member through its attribute picker (≈8 ms for one ``GetItem`` of a model config); an
  ``AttributeValue`` that is already in wire form (``S``, ``N``, ``BOOL``, ``NULL``, ``M``, ``L``, ``SS``,
  ``NS``, as moto's items give it) is copied as is, with exactly the generic path's result; anything else
  (binary, unexpected keys or types) still takes the generic path.
- ``ddb_fast_item_size``: moto sizes every item a ``Query``/``Scan`` returns (the 1 MB page limit) by re-wrapping
  each map value in a new ``DynamoType`` at every level (O(n·depth)), and deep-copies the results node by node
  through ``copy.deepcopy``: a query over a year of run records cost ~3 ms per item. ``DynamoType.size`` is now
  one pass giving the same byte count and ``__deepcopy__`` a direct copy of the tree (same structure, fresh
  list and map nodes).
- ``ddb_fast_results``: a ``Query``/``Scan`` result goes through moto's ``dynamo_to_dict`` (an ``isinstance``/
  ``hasattr`` chain per node) and each returned item is sized twice (the page limit, then the page's total): with
  a year of run records (the decide step lists up to 500) that was ~0.15 CPU-s of every run. Plain nodes are now
  converted directly (binary values, dates and other objects still by moto's function) and an item is sized once
  per call; the results are moto's.
- ``ddb_query_prefilter``: a ``Query`` with a ``FilterExpression`` deep-copies every item it read (up to
  ``Limit``), then filters the copies: the decide step's read of the runs whose window ended recently
  (``RunStore.list(window_end_after=...)``) copied every earlier run. When the query returns whole items (the
  table, or an index projecting ``ALL``), the filter is now evaluated on the stored items and only those kept are
  copied; same items, counts and pages as moto's.
- ``ddb_update_action_counts``: ``UpdateItem``'s check that an expression has at most one ADD, REMOVE and SET
  clause walked the subtree of every action three times (quadratic: ~1/3 of a run record's update of ~80
  attributes); each node's counts are now computed once from its children's, with the same errors (:mod:`.ddb`).
- ``sfn_distributed_map``: what a Distributed Map over S3 needs beyond moto's interpreter: ``ItemBatcher``
  (not in moto's grammar: taken out of the definition before parsing and applied to the items the
  ``ItemReader`` returned: ``{"Items": [...], "BatchInput": {...}}`` per child, ``MaxItemsPerBatch`` /
  ``MaxItemsPerBatchPath`` / ``MaxInputBytesPerBatch``), an integer ``ToleratedFailurePercentage`` (the grammar
  wants a decimal literal), and ``arn:aws:states:::s3:listObjectsV2`` reading every page (moto reads one page,
  fails on an empty prefix and hands out ``datetime`` values; items are ``Key``/``Size``/``ETag``/
  ``LastModified`` (ISO string)/``StorageClass``, as JSON); a Map Run whose failed child workflows exceed
  ``ToleratedFailureCount`` / ``ToleratedFailurePercentage`` fails with ``States.ExceedToleratedFailureThreshold``
  (moto counts the failures and succeeds anyway), and a Parallel branch failing with such a reserved
  ``States.*`` error fails the Parallel state with it (moto turned it into ``States.Runtime``, uncatchable).
- ``moto_backend_locks``: the offline runtime runs functions concurrently (as Lambda does), but moto's DynamoDB,
  S3, Step Functions and SQS backends are not thread-safe: a conditional ``PutItem`` checks and writes in two
  steps (two concurrent lock acquisitions could both succeed), an S3 listing iterates a dict another thread
  may be inserting into, two ``StartExecution`` calls with one name could both start. Every public method of
  those backends runs under one re-entrant lock per backend class (``StartExecution`` under a lock per
  execution name, as it waits for the execution's thread to start), held for that one call only and never
  while a function runs: Lambda, EventBridge and SNS, whose calls run functions synchronously, are not
  locked, and the notifications of an S3 write (which may run the trigger router) are sent after the S3
  lock is released, in the writing thread, before the write call returns (as moto sends them).
- ``unknown_operation_errors``: an operation moto does not implement gets AWS's error for an unknown action (JSON
  ``UnknownOperationException``, query ``InvalidAction``, S3's ``NotImplemented``), never an exception / HTML 500
  (:mod:`.errors`).
- ``dispatch_caches``: moto's stubber builds a backend's URL table (S3: after reloading its URL module) and lists
  the response class's methods for every in-process request; both are kept per class (:mod:`.dispatch`).
- ``sagemaker_local``: ``CreateTrainingJob`` runs the script, ``UpdateEndpoint`` exists, ``InvokeEndpoint``
  serves the model and publishes its ``AWS/SageMaker`` metrics (see :mod:`samlocal.sagemaker_local`).
- ``sagemaker_model_registry``: ``UpdateModelPackage`` merges ``CustomerMetadataProperties`` and keeps the status
  and description it is not given; creating or updating a versioned model package sends SageMaker's
  ``SageMaker Model Package State Change`` event to the default bus; endpoints serve models created from a
  package (:mod:`.sagemaker_registry`).
- ``cloudwatch_percentiles``: ``GetMetricData`` answers percentile statistics (``p50``, ``p99``...) from the
  raw values (:mod:`.cloudwatch`).
- ``s3_prefix_listing``: a listing with a ``Prefix`` reads only the keys under it, not every key of the bucket,
  and a ``ListObjectsV2`` with a ``StartAfter`` or a continuation token only those after it (moto's result
  unchanged; :mod:`.s3`).
- ``sagemaker_tuning``: ``CreateHyperParameterTuningJob`` runs its trials with the local tuner (real training jobs),
  ``DescribeHyperParameterTuningJob`` reports them (``BestTrainingJob``, counters, ``Failed`` when no trial reported
  the objective), ``ListTrainingJobsForHyperParameterTuningJob`` and ``StopHyperParameterTuningJob`` exist
  (:mod:`.sagemaker_tuning`, :mod:`samlocal.sagemaker_tuner`).
- ``kms_lazy_private_key``: a symmetric (or HMAC) KMS key's unused RSA private key, which moto generates for every
  key, is generated on first use instead of at ``CreateKey`` (:mod:`.kms`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from .cloudwatch import _install_cloudwatch_percentiles
from .ddb import (
    _install_ddb_fast_attribute_values,
    _install_ddb_fast_item_size,
    _install_ddb_fast_results,
    _install_ddb_query_prefilter,
    _install_ddb_update_action_counts,
)
from .dispatch import _install_dispatch_caches, forget_methods
from .errors import _install_unknown_operation_errors
from .kms import _install_kms_lazy_private_key
from .lambda_events import _install_events_delivery, _install_lambda_dispatch
from .locks import BACKEND_LOCKS, _install_moto_backend_locks
from .s3 import _install_s3_prefix_listing
from .sagemaker_registry import _install_sagemaker_model_registry
from .sagemaker_tuning import _install_sagemaker_tuning
from .sfn import (
    _install_sfn_client_cache,
    _install_sfn_fast_retry,
    _install_sfn_fast_wait,
    _install_sfn_jsonata,
    _install_sfn_jsonpath_cache,
    _install_sfn_keyword_path_bindings,
    _install_sfn_parse_cache,
    _install_sfn_sagemaker,
    _install_sfn_sim_clock,
    _install_sfn_start_execution_name,
    _install_sfn_termination_signal,
    warm_clients,
)
from .sfn_map import _install_sfn_distributed_map

if TYPE_CHECKING:
    from ..registry import RuntimeRegistry

__all__ = ["BACKEND_LOCKS", "EXTENSIONS", "install", "installed", "warm_clients"]

EXTENSIONS = (
    "lambda_dispatch",
    "events_delivery",
    "sfn_start_execution_name",
    "sfn_sim_clock",
    "sfn_fast_wait",
    "sfn_fast_retry",
    "sfn_jsonata",
    "sfn_sagemaker",
    "sfn_keyword_path_bindings",
    "sfn_client_cache",
    "sfn_parse_cache",
    "sfn_jsonpath_cache",
    "sfn_termination_signal",
    "ddb_fast_attribute_values",
    "ddb_fast_item_size",
    "ddb_fast_results",
    "ddb_query_prefilter",
    "ddb_update_action_counts",
    "sfn_distributed_map",
    "s3_prefix_listing",
    "moto_backend_locks",
    "sagemaker_local",
    "cloudwatch_percentiles",
    "unknown_operation_errors",
    "dispatch_caches",
    "sagemaker_model_registry",
    "kms_lazy_private_key",
    "sagemaker_tuning",
)

_INSTALLED: set[str] = set()
_INSTALL_LOCK = threading.Lock()
_REGISTRY: list[RuntimeRegistry] = []


def installed() -> frozenset[str]:
    return frozenset(_INSTALLED)


def install(registry: RuntimeRegistry) -> None:
    """Apply every extension once per process (idempotent), dispatching to ``registry``.

    moto's classes are patched process-wide, so one registry serves them all: installing again with another
    registry is an error (it would be silently ignored otherwise).
    """
    with _INSTALL_LOCK:
        if _REGISTRY and _REGISTRY[0] is not registry:
            raise RuntimeError("the moto extensions are installed with another registry in this process")
        if not _REGISTRY:
            _REGISTRY.append(registry)
        for name in EXTENSIONS:
            if name not in _INSTALLED:
                _INSTALLERS[name](registry)
                _INSTALLED.add(name)
        forget_methods()  # an extension may have added an action to a response class


def _install_sagemaker_local(registry: RuntimeRegistry) -> None:
    from ..sagemaker_patches import install_sagemaker_patches

    install_sagemaker_patches(registry)


_INSTALLERS: dict[str, Callable[[RuntimeRegistry], None]] = {
    "lambda_dispatch": _install_lambda_dispatch,
    "events_delivery": _install_events_delivery,
    "sfn_start_execution_name": _install_sfn_start_execution_name,
    "sfn_sim_clock": _install_sfn_sim_clock,
    "sfn_fast_wait": _install_sfn_fast_wait,
    "sfn_fast_retry": _install_sfn_fast_retry,
    "sfn_jsonata": _install_sfn_jsonata,
    "sfn_sagemaker": _install_sfn_sagemaker,
    "sfn_keyword_path_bindings": _install_sfn_keyword_path_bindings,
    "sfn_client_cache": _install_sfn_client_cache,
    "sfn_parse_cache": _install_sfn_parse_cache,
    "sfn_jsonpath_cache": _install_sfn_jsonpath_cache,
    "sfn_termination_signal": _install_sfn_termination_signal,
    "ddb_fast_attribute_values": _install_ddb_fast_attribute_values,
    "ddb_fast_item_size": _install_ddb_fast_item_size,
    "ddb_fast_results": _install_ddb_fast_results,
    "ddb_query_prefilter": _install_ddb_query_prefilter,
    "ddb_update_action_counts": _install_ddb_update_action_counts,
    "sfn_distributed_map": _install_sfn_distributed_map,
    "moto_backend_locks": _install_moto_backend_locks,
    "sagemaker_local": _install_sagemaker_local,
    "cloudwatch_percentiles": _install_cloudwatch_percentiles,
    "unknown_operation_errors": _install_unknown_operation_errors,
    "kms_lazy_private_key": _install_kms_lazy_private_key,
    "s3_prefix_listing": _install_s3_prefix_listing,
    "dispatch_caches": _install_dispatch_caches,
    "sagemaker_model_registry": _install_sagemaker_model_registry,
    "sagemaker_tuning": _install_sagemaker_tuning,
}
