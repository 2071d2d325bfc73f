"""An MLMD gRPC service over a sqlite store, in-process, for tests of `--mlmd-host/--mlmd-port`.

No MLMD server binary ships with the `ml-metadata` wheel, and no Kubeflow
cluster is reachable here. This serves the real `MetadataStoreService`
protocol (ml_metadata's generated gRPC stubs) and answers each call with the
real MLMD library on a sqlite file, so clients go through exactly the code
path they use against `metadata-grpc-service` in a cluster.
"""

from __future__ import annotations

from concurrent import futures

import grpc
from ml_metadata import errors
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2, metadata_store_service_pb2
from ml_metadata.proto import metadata_store_service_pb2_grpc as service_grpc


def serve_sqlite(sqlite_path: str) -> tuple[grpc.Server, int]:
    """Starts serving `sqlite_path` on a free localhost port; returns (server, port)."""
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = sqlite_path
    backend = metadata_store.MetadataStore(config)
    servicer = service_grpc.MetadataStoreServiceServicer()
    service = metadata_store_service_pb2.DESCRIPTOR.services_by_name["MetadataStoreService"]
    for method in service.methods:
        response_type = getattr(metadata_store_service_pb2, method.output_type.name)
        setattr(servicer, method.name, _forward(backend, method.name, response_type))
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    service_grpc.add_MetadataStoreServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("localhost:0")
    server.start()
    return server, port


def _forward(backend: metadata_store.MetadataStore, method_name: str, response_type):
    def handle(request, context):
        response = response_type()
        try:
            backend._call(method_name, request, response)
        except errors.StatusError as error:
            context.abort(_grpc_code(error.error_code), str(error))
        return response

    return handle


def _grpc_code(error_code: int) -> grpc.StatusCode:
    return next((c for c in grpc.StatusCode if c.value[0] == error_code), grpc.StatusCode.UNKNOWN)
