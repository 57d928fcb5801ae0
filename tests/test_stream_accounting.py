"""How bench/first_token.py counts streams per process, whatever the generation worker's design: the fake Ollama
lists the chat replies it is streaming by client port (GET /fake/streams), bench/stackwatch.py traces each port to
the process holding the socket, and tells a Celery pool process from its worker's main process by command line."""

from __future__ import annotations

import http.client
import json
import os
import urllib.request

from bench import stackwatch
from tests.fake_ollama import FakeOllama, Reply
from tests.processes import ProcessInfo


def streaming_now(fake: FakeOllama) -> list[int]:
    with urllib.request.urlopen(fake.url + "/fake/streams", timeout=5) as response:
        return json.load(response)["client_ports"]


def test_a_streaming_reply_is_listed_by_its_client_port_until_it_ends_and_traced_to_this_process() -> None:
    with FakeOllama() as fake:
        fake.script(Reply(content="one two three", per_token=0.2))
        host, port = fake.url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        connection.request("POST", "/api/chat", json.dumps(
            {"model": "deepseek-r1:7b", "messages": [{"role": "user", "content": "hi"}], "stream": True}
        ), {"Content-Type": "application/json"})
        response = connection.getresponse()
        response.readline()  # the first chunk's size: the stream has begun
        client_port = connection.sock.getsockname()[1]

        assert streaming_now(fake) == [client_port]
        assert stackwatch.stream_owners([client_port], int(port), [os.getpid()]) == {os.getpid(): 1}

        response.read()
        connection.close()
        assert streaming_now(fake) == []


def process(pid: int, parent: int, command: str) -> ProcessInfo:
    return ProcessInfo(pid=pid, parent=parent, session=1, nice=0, cpu_seconds=0.0, command=command)


def test_a_celery_pool_process_is_told_from_its_workers_main_process_by_the_command_it_shares() -> None:
    worker = "python -m celery -A helpdesk worker -Q generation -n generation@%h -c 4 -P prefork"
    main, pool = process(10, 1, worker), process(11, 10, worker)

    assert stackwatch.role_of(main, process(1, 0, "python manage.py serve")) == (
        stackwatch.GENERATION, "generation worker, main process")
    assert stackwatch.role_of(pool, main) == (stackwatch.GENERATION, "generation worker, pool process")
    logging_worker = process(12, 1, "python -m celery -A helpdesk worker -Q logging,knowledge -n logging@%h")
    assert stackwatch.role_of(logging_worker, None)[0] == stackwatch.OTHER_WORKERS
    assert stackwatch.role_of(process(13, 1, "python -m helpdesk.webserver -b 127.0.0.1"), None)[0] == stackwatch.WEB
