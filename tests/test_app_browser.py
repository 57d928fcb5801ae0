"""A web front end of the app channel in a real browser (README "App channel", "From a browser";
conversations/appapi/cors.py): a page on another origin than the helpdesk, one its app lists, starts a conversation
with fetch() and the app's key, sends a message and reads the reply from the event stream with fetch streaming
(EventSource cannot send the key) until the bot's `done`. The same page on an origin the app does not list gets
nothing: the browser rejects its fetch()."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import LiveServer, host_site
from tests.fake_ollama import FakeOllama, Reply

pytestmark = pytest.mark.browser

# What a web front end does, in plain browser JavaScript: no key in a URL, the stream read as text and split into
# events on blank lines.
FRONT_END = """<!doctype html><html><head><meta charset="utf-8"><title>Front end</title></head><body>
<script>
window.chat = async function (base, key, text) {
  const auth = {"Authorization": "Bearer " + key};
  const created = await fetch(base + "/api/v1/app/conversations", {
    method: "POST", headers: {...auth, "Content-Type": "application/json"}, body: "{}"});
  const token = (await created.json()).token;
  const mine = {...auth, "X-Conversation-Token": token};
  const controller = new AbortController();
  const stream = await fetch(base + "/api/v1/app/events", {
    headers: {...mine, "Accept": "text/event-stream"}, signal: controller.signal});
  const reader = stream.body.pipeThrough(new TextDecoderStream()).getReader();
  const sent = await fetch(base + "/api/v1/app/messages", {
    method: "POST", headers: {...mine, "Content-Type": "application/json"},
    body: JSON.stringify({text: text, client_id: "browser-1"})});
  let buffer = "", deltas = "", done = null;
  while (done === null) {
    const {value, done: ended} = await reader.read();
    if (ended) break;
    buffer += value;
    let cut;
    while ((cut = buffer.indexOf("\\n\\n")) >= 0) {
      const fields = {};
      for (const line of buffer.slice(0, cut).split("\\n")) {
        const colon = line.indexOf(":");
        if (colon > 0) fields[line.slice(0, colon)] = line.slice(colon + 1).replace(/^ /, "");
      }
      buffer = buffer.slice(cut + 2);
      if (fields.event === "delta") deltas += JSON.parse(fields.data).text;
      if (fields.event === "done") done = JSON.parse(fields.data).message;
    }
  }
  controller.abort();
  return {created: created.status, sent: sent.status, stream: stream.status, deltas: deltas,
          done: done && done.content, role: done && done.role};
};
window.attempt = async function (url, options) {
  try {
    const answer = await fetch(url, options);
    return {status: answer.status};
  } catch (error) {
    return {rejected: error.name};
  }
};
</script></body></html>"""


def run_async(browser: Any, script: str, *args: Any) -> Any:
    """`script`'s promise, awaited in the page."""
    browser.set_script_timeout(60)
    return browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        f"({script}).then(done, error => done({{error: String(error)}}));", *args)


def app_with_origin(live_app: LiveServer, name: str, origin: str) -> str:
    script = ("from conversations.services.apps import app_create\n"
              f"app, key = app_create(name={name!r}, allowed_origins={origin!r})\nprint(key)")
    return live_app.shell(script).strip().splitlines()[-1]


def conversations(live_app: LiveServer) -> int:
    return live_app.query("SELECT count(*) FROM conversations_conversation")[0][0]


@pytest.mark.parametrize(("question", "answer"), [
    ("How long does shipping take?", "Parcels leave the warehouse the next working day, tracked all the way."),
    ("运费怎么算？", "满两百元包邮，其余订单按重量计费。"),
])
def test_a_page_on_an_allowed_origin_chats_with_fetch_and_reads_the_stream(
    live_app: LiveServer, browser: Any, fake_ollama_server: FakeOllama, question: str, answer: str,
) -> None:
    fake_ollama_server.reset()
    fake_ollama_server.script(Reply(content=answer, ttft=0.05, per_token=0.01))
    # Not one of the widget's origins (second_port is): the app's own list opens the app API.
    origin = f"http://127.0.0.1:{live_app.foreign_port}"
    key = app_with_origin(live_app, f"web-{len(question)}", origin)
    with host_site({"front.html": FRONT_END}, live_app.foreign_port) as site:
        browser.get(site + "/front.html")
        got = run_async(browser, "window.chat(arguments[0], arguments[1], arguments[2])", live_app.url, key,
                        question)
    assert got == {"created": 201, "sent": 201, "stream": 200, "deltas": answer, "done": answer, "role": "bot"}


def test_the_same_page_on_an_origin_the_app_does_not_list_is_blocked(
    live_app: LiveServer, browser: Any,
) -> None:
    key = app_with_origin(live_app, "web-only", f"http://127.0.0.1:{live_app.foreign_port}")
    before = conversations(live_app)
    # One of the widget's origins, not this app's: the widget's list does not open the app API.
    with host_site({"front.html": FRONT_END}, live_app.second_port) as site:
        browser.get(site + "/front.html")
        create = run_async(browser, "window.attempt(arguments[0], arguments[1])",
                           live_app.url + "/api/v1/app/conversations",
                           {"method": "POST", "body": "{}",
                            "headers": {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}})
        stream = run_async(browser, "window.attempt(arguments[0], arguments[1])",
                           live_app.url + "/api/v1/app/events",
                           {"headers": {"Authorization": f"Bearer {key}", "X-Conversation-Token": "x" * 43}})
    assert create == {"rejected": "TypeError"} and stream == {"rejected": "TypeError"}
    assert conversations(live_app) == before  # the preflight was refused: the request itself never came
