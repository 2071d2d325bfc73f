"""One compilation of the Kubeflow variant, shared by the tests of this folder.

Compiling is offline and takes about a second once TFX is imported; the config it
is compiled from differs from every default, so each assertion proves a flag reached
the compiled spec.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

# The flags a user would pass to `python -m kubeflow compile` (besides --output).
CLUSTER_FLAGS = (
    "--output-dir", "gs://bucket/image-transfer",
    "--data-dir", "gs://bucket/tfds",
    "--serving-dir", "/models",
    "--serving-pvc", "served-models",
    "--kfp-mlmd-host", "mlmd.kubeflow.svc",
    "--kfp-mlmd-port", "9090",
    "--image", "registry.example/tfx-image-transfer:test",
    "--trainer-cpu", "6",
    "--trainer-memory", "24Gi",
    "--trainer-gpus", "2",
    "--trainer-accelerator", "nvidia.com/gpu",
    "--gpu-node-selector", "cloud.google.com/gke-accelerator=nvidia-tesla-t4",
    "--gpu-tolerations", "nvidia.com/gpu=present:NoSchedule,dedicated:NoExecute",
    "--trainer-retries", "3",
    "--beam-cpu", "3",
    "--beam-memory", "12Gi",
    "--beam-runner", "DataflowRunner",
    "--beam-options", "--project=proj --region=europe-west4 --temp_location=gs://bucket/tmp",
)  # fmt: skip


@dataclass
class Compiled:
    path: Path
    text: str
    component: object  # kfp's YamlComponent: .pipeline_spec and .platform_spec protos
    seconds: float

    @property
    def pipeline_spec(self):
        return self.component.pipeline_spec

    @property
    def deployment(self):
        """The executors as typed protos (PipelineSpec keeps them as a Struct)."""
        from google.protobuf import json_format
        from kfp.pipeline_spec import pipeline_spec_pb2

        return json_format.ParseDict(
            json_format.MessageToDict(self.pipeline_spec.deployment_spec),
            pipeline_spec_pb2.PipelineDeploymentConfig(),
        )

    def task(self, prefix: str) -> str:
        """The one task whose name starts with `prefix` (e.g. Evaluator, or a subclass of it)."""
        (name,) = [t for t in self.pipeline_spec.root.dag.tasks if t.startswith(prefix)]
        return name

    def executor_label(self, task: str) -> str:
        return self.pipeline_spec.components[task].executor_label

    def container(self, task: str):
        return self.deployment.executors[self.executor_label(task)].container

    @property
    def kubernetes_executors(self) -> dict:
        """kfp-kubernetes' per-executor config from the appended PlatformSpec document."""
        from google.protobuf import json_format

        platform = json_format.MessageToDict(self.component.platform_spec)
        return platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]


@pytest.fixture(scope="session")
def compiled(tmp_path_factory) -> Compiled:
    """`python -m kubeflow compile` (in-process) with CLUSTER_FLAGS, loaded by kfp's own loader."""
    import time

    from kfp import components

    from kubeflow.cli import main
    from kubeflow.compile import compile_pipeline  # noqa: F401 - import TFX outside the timing

    path = tmp_path_factory.mktemp("kfp") / "pipeline.yaml"
    start = time.perf_counter()
    assert main(["compile", *CLUSTER_FLAGS, "--output", str(path)]) == 0
    seconds = time.perf_counter() - start
    return Compiled(path, path.read_text(), components.load_component_from_file(str(path)), seconds)
