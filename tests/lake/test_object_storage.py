"""The lake on object storage (s3://), against moto's S3 server running locally on loopback.

moto is a local S3-compatible server (no AWS is reached); it stands in for S3 as MinIO or a cloud
bucket would, through the same delta-rs object store that az:// and gs:// use.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import polars as pl
import pytest

from homeroom.runs import Runner
from homeroom.settings import Settings
from tests.conftest import MS_V21


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    port = _free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    try:
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_runs_write_and_read_the_lake_on_s3(s3_endpoint, tmp_path):
    credentials = {"aws_access_key_id": "test", "aws_secret_access_key": "test", "region_name": "us-east-1"}
    boto3.client("s3", endpoint_url=s3_endpoint, **credentials).create_bucket(Bucket="district")
    options = {
        "AWS_ENDPOINT_URL": s3_endpoint, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": "us-east-1", "AWS_ALLOW_HTTP": "true", "AWS_S3_ALLOW_UNSAFE_RENAME": "true",
    }
    settings = Settings(data_dir=tmp_path / "data", lake_uri="s3://district/homeroom", lake_storage_options=options)
    runner = Runner("t", settings=settings)
    first = runner.run(MS_V21, flow_name="sis", year="2026")
    second = runner.run(MS_V21, flow_name="sis", year="2026")
    assert (first.run.status, second.run.status) == ("completed", "completed")
    assert runner.lake.uri("users") == "s3://district/homeroom/t/users"
    users = runner.lake.read("users")
    assert users.height == 8 and users["isActive"].all()
    assert runner.lake.read("_changes").group_by("change").len().rows() == [("added", 44)]
    assert "users" in runner.lake.tables() and "_changes" in runner.lake.tables()
    keys = [o["Key"] for o in boto3.client("s3", endpoint_url=s3_endpoint, **credentials)
            .list_objects_v2(Bucket="district", Prefix="homeroom/t/users/_delta_log/")["Contents"]]
    assert keys == ["homeroom/t/users/_delta_log/00000000000000000000.json", "homeroom/t/users/_delta_log/00000000000000000001.json"]
    assert pl.scan_delta("s3://district/homeroom/t/orgs", storage_options=options).collect().height == 4
