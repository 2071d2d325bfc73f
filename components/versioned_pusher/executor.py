"""VersionedPusher's executor: blessed models only, next integer version, published whole.

TFX's own Pusher names versions by Unix time and copies file by file into the
final directory, so a model server can see a half-copied version. This one
keeps the Pusher's contract (inputs, `pushed`/`pushed_destination`/
`pushed_version` on the PushedModel artifact, whose URI is the version published)
and changes how the version directory is written (`core.serving_layout`: an atomic
rename on a disk; in a bucket, verified copies whose numbers are claimed in ML
Metadata), and one thing more: a model that is already the latest
version is not published again. "Already" means the same content digest (a
rerun whose Trainer came from cache) or the same training identity (a model
retrained from the same data and recipe, as a scheduled Kubeflow run does,
where the data is re-read on every run). Its PushedModel says `pushed` = 0 and
records `already_serving_version`, so the summary can say "already serving as
version N" and the registry lists no second publication.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from tfx import types
from tfx.components.pusher import executor as pusher_executor
from tfx.proto import pusher_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import json_utils, proto_utils

from core import artifact_properties as properties
from core.config import MLMD_GRPC_PORT
from core.metadata import models
from core.metadata.store import Target, connect
from core.serving_layout import WARMUP_FILE, publish_version, serving_version_of
from core.storage import files_for

WARMUP_FILE_NAME = os.path.basename(WARMUP_FILE)  # as the serving check names it

# Key of the component's custom_config.
RECIPE_FINGERPRINT = "recipe_fingerprint"
# Where version numbers in a bucket are claimed (empty for a local serving directory).
MLMD_HOST = "mlmd_host"
MLMD_PORT = "mlmd_port"
MLMD_SQLITE_PATH = "mlmd_sqlite_path"


class Executor(pusher_executor.Executor):
    """Pushes to `push_destination.filesystem.base_directory/<next integer version>/`."""

    def Do(  # noqa: N802 - TFX API
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        self._log_startup(input_dict, output_dict, exec_properties)
        pushed_model = artifact_utils.get_single_instance(
            output_dict[standard_component_specs.PUSHED_MODEL_KEY]
        )
        if not self.CheckBlessing(input_dict):
            self._MarkNotPushed(pushed_model)
            return
        destination = pusher_pb2.PushDestination()
        proto_utils.json_to_proto(
            exec_properties[standard_component_specs.PUSH_DESTINATION_KEY], destination
        )
        if destination.WhichOneof("destination") != "filesystem":
            raise ValueError("VersionedPusher pushes to a filesystem destination only")
        model_path = self.GetModelPath(input_dict)
        serving_dir = destination.filesystem.base_directory
        identity = training_identity(input_dict, exec_properties)
        if identity:
            pushed_model.set_string_custom_property(properties.TRAINING_IDENTITY, identity)
        already = serving_version_of(model_path, serving_dir, identity)
        if already is not None:
            self._MarkNotPushed(pushed_model)
            pushed_model.set_int_custom_property(properties.ALREADY_SERVING_VERSION, already[0])
            pushed_model.set_string_custom_property(properties.ALREADY_SERVING_PATH, already[1])
            return
        version, path = publish_version(
            model_path,
            serving_dir,
            identity,
            claim=self._claims(serving_dir, exec_properties),
            warmup_requests=warmup_requests(input_dict),
        )
        # The version published is the artifact: no second copy under the pipeline root.
        pushed_model.uri = path
        self._MarkPushed(pushed_model, pushed_destination=path, pushed_version=str(version))

    @staticmethod
    def _claims(serving_dir: str, exec_properties: dict[str, Any]) -> models.Claim | None:
        """Version claims in the configured ML Metadata store (needed for a bucket only)."""
        target = Target(
            sqlite_path=exec_properties.get(MLMD_SQLITE_PATH) or None,
            host=exec_properties.get(MLMD_HOST) or None,
            port=int(exec_properties.get(MLMD_PORT) or MLMD_GRPC_PORT),
        )
        if not (target.host or target.sqlite_path):
            return None
        return models.version_claims(connect(target), serving_dir)


def warmup_requests(input_dict: dict[str, list[types.Artifact]]) -> str:
    """The warm-up file the serving check wrote into its InfraBlessing; "" without one."""
    checks = input_dict.get(standard_component_specs.INFRA_BLESSING_KEY) or []
    if not checks:
        return ""
    path = os.path.join(checks[0].uri, WARMUP_FILE_NAME)
    return path if files_for(path).exists(path) else ""


def training_identity(
    input_dict: dict[str, list[types.Artifact]], exec_properties: dict[str, Any]
) -> str:
    """SHA-256 of the recipe fingerprint and the data fingerprint; "" when either is unknown.

    Unknown (no `examples` input, or Examples without a data fingerprint, e.g.
    from an older ExampleGen) means the model is compared by content only:
    never "already serving" by mistake.
    """
    custom_config = json_utils.loads(
        exec_properties.get(standard_component_specs.CUSTOM_CONFIG_KEY) or "null"
    )
    recipe = (custom_config or {}).get(RECIPE_FINGERPRINT, "")
    examples = input_dict.get(standard_component_specs.EXAMPLES_KEY) or []
    if not recipe or len(examples) != 1:
        return ""
    data = examples[0].get_string_custom_property(properties.DATA_FINGERPRINT)
    if not data:
        return ""
    return hashlib.sha256(f"{recipe}\0{data}".encode()).hexdigest()
