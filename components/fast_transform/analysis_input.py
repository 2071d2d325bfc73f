"""Transform's analysis reads its splits only when the preprocessing_fn has analyzers.

TFX's Transform reads every analyze split whenever it materializes the
transformed examples, even when the preprocessing_fn has no analyzer (no
`tft.mean`, `tft.vocabulary`, ...) and so nothing to compute from the data.
TFX drops that read only when it writes neither examples nor statistics
(`tfx/components/transform/executor.py`, `_RunBeamImpl`: "Removing unneeded
datasets"), and TFT still asks for the image column, because the traced
function's control dependencies use it (`tensorflow_transform/
inspect_preprocessing_fn.py`, `get_analyze_input_columns`).

Our preprocessing_fn only decodes and resizes, so the analysis read of train
(9,300 JPEGs at the real dataset's size) was pure cost: Transform took 11.6 s
with it and 10.8 s without (three runs each, `benchmarks/data_path.py`'s data).

The guard is TFT's own definition of an analyzer: a traced preprocessing_fn has
one exactly when its graph holds an analyzer output to replace
(`analyzer_nodes.TENSOR_REPLACEMENTS`). With one, or with Transform's statistics
on (they describe the analyze splits), everything is read as TFX does.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import apache_beam as beam
import pyarrow as pa
from absl import logging
from tensorflow_transform import analyzer_nodes, impl_helper, tf2_utils
from tfx.components.transform import executor as tfx_transform
from tfx_bsl.tfxio import tfxio


def has_analyzers(
    preprocessing_fn: Callable, typespecs: dict[str, Any], force_tf_compat_v1: bool
) -> bool:
    """Whether the traced preprocessing_fn computes anything from the analyze data."""
    graph, _, _ = impl_helper.trace_preprocessing_function(
        preprocessing_fn,
        typespecs,
        use_tf_compat_v1=tf2_utils.use_tf_compat_v1(force_tf_compat_v1),
    )
    return bool(graph.get_collection(analyzer_nodes.TENSOR_REPLACEMENTS))


class NoRecordsTFXIO(tfxio.TFXIO):
    """A split's TFXIO (same schema, projections and tensor adapter) whose Beam source
    yields no record: what the analysis of a preprocessing_fn without analyzers reads."""

    def __init__(self, split: tfxio.TFXIO):
        super().__init__()
        self._split = split

    def BeamSource(self, batch_size: int | None = None) -> beam.PTransform:  # noqa: N802
        return beam.Create([]).with_output_types(pa.RecordBatch)

    def RecordBatches(self, options: Any) -> Iterator[pa.RecordBatch]:  # noqa: N802
        return iter(())

    def ArrowSchema(self) -> pa.Schema:  # noqa: N802
        return self._split.ArrowSchema()

    def TensorRepresentations(self) -> dict:  # noqa: N802
        return self._split.TensorRepresentations()

    def TensorFlowDataset(self, options: Any) -> Any:  # noqa: N802
        raise NotImplementedError(
            "the analysis of a preprocessing_fn without analyzers reads no data"
        )

    def _ProjectImpl(self, tensor_names: list[str]) -> NoRecordsTFXIO:  # noqa: N802
        return NoRecordsTFXIO(self._split.Project(tensor_names))


class _AnalysisReadsOnlyForAnalyzers(tfx_transform.TransformProcessor):
    """TFX's TransformProcessor; the analyze splits are read only if something uses them."""

    def _RunBeamImpl(  # noqa: N802 - TFX API
        self,
        analyze_data_list: list[Any],
        transform_data_list: list[Any],
        preprocessing_fn: Callable,
        stats_options_updater_fn: Callable,
        force_tf_compat_v1: bool,
        save_options: Any,
        input_dataset_metadata: Any,
        transform_output_path: str,
        raw_examples_data_format: int,
        temp_path: str,
        input_cache_dir: str | None,
        output_cache_dir: str | None,
        disable_statistics: bool,
        *rest: Any,
    ) -> Any:
        typespecs = analyze_data_list[0].tfxio.TensorAdapter().OriginalTypeSpecs()
        if disable_statistics and not has_analyzers(
            preprocessing_fn, typespecs, force_tf_compat_v1
        ):
            logging.info("preprocessing_fn has no analyzers: the analyze splits are not read")
            for dataset in analyze_data_list:
                dataset.tfxio = NoRecordsTFXIO(dataset.tfxio)
        return super()._RunBeamImpl(
            analyze_data_list,
            transform_data_list,
            preprocessing_fn,
            stats_options_updater_fn,
            force_tf_compat_v1,
            save_options,
            input_dataset_metadata,
            transform_output_path,
            raw_examples_data_format,
            temp_path,
            input_cache_dir,
            output_cache_dir,
            disable_statistics,
            *rest,
        )


@contextlib.contextmanager
def analysis_reads_only_for_analyzers() -> Iterator[None]:
    """Within the block, TFX's Transform executor uses `_AnalysisReadsOnlyForAnalyzers`.

    Its `Do` creates `TransformProcessor()` by name, so the module attribute is the hook.
    """
    original = tfx_transform.TransformProcessor
    tfx_transform.TransformProcessor = _AnalysisReadsOnlyForAnalyzers
    try:
        yield
    finally:
        tfx_transform.TransformProcessor = original
