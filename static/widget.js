/* Helpdesk chat widget: one <script> tag, no build step, no third-party code; a shadow root keeps the host
 * page's CSS out, localStorage keeps the conversation across reloads. Whatever a customer, agent or the model
 * writes goes in through textContent: it is never parsed as HTML. */
(function () {
  "use strict";
  if (window.Helpdesk && window.Helpdesk._loaded) return;

  var script = document.currentScript || document.querySelector("script[data-helpdesk-url]");
  var base = ((script && script.getAttribute("data-helpdesk-url")) || (script ? new URL(script.src).origin : location.origin)).replace(/\/+$/, "");
  var settings = window.helpdeskSettings || {};
  var storeKey = "helpdesk:" + base;

  // What the customer reads, as written here in English. The server sends the translations into the customer's
  // language with the widget's config (locale/*/LC_MESSAGES/djangojs.po, context "widget"); a text without one,
  // or a widget whose config did not arrive, stays in English.
  var catalog = {};
  function pgettext(context, text) { return catalog[context + "\u0004" + text] || text; }
  function strings() {
    return {
      title: pgettext("widget", "Customer service"), open: pgettext("widget", "Chat with us"),
      close: pgettext("widget", "Close chat"), placeholder: pgettext("widget", "Type your message…"),
      send: pgettext("widget", "Send"), stop: pgettext("widget", "Stop"), human: pgettext("widget", "Talk to a human"),
      offline: pgettext("widget", "Connection lost — reconnecting…"),
      busy: pgettext("widget", "We are very busy right now — retrying…"),
      greeting: pgettext("widget", "Hi! Ask us anything about your order, shipping or returns."),
      waiting_human: pgettext("widget", "Waiting for a colleague — they will join shortly."),
      human_joined: pgettext("widget", "You are chatting with a colleague."),
      humanNamed: pgettext("widget", "You are chatting with {name}."),
      resolved: pgettext("widget", "This conversation is resolved. Write again any time."),
      sending: pgettext("widget", "Sending…"), failed: pgettext("widget", "Not delivered"),
      tooLong: pgettext("widget", "Too long: {n} / {max} characters"),
      refused: pgettext("widget", "This site may not open the chat."),
      refusedIdentity: pgettext("widget", "We could not confirm who you are. Please sign in again."),
      you: pgettext("widget", "You"), assistant: pgettext("widget", "Assistant"), agent: pgettext("widget", "Agent"),
      system: pgettext("widget", "Notice"), sources: pgettext("widget", "Sources: "),
      typingBot: pgettext("widget", "The assistant is thinking…"),
      typingAgent: pgettext("widget", "{name} is typing…"),
      typingColleague: pgettext("widget", "A colleague is typing…"),
      stopped: pgettext("widget", "Stopped"), interrupted: pgettext("widget", "Interrupted"),
      helpful: pgettext("widget", "Helpful"), notHelpful: pgettext("widget", "Not helpful"),
      wasHelpful: pgettext("widget", "Was this reply helpful?"),
      whyNot: pgettext("widget", "What was missing? (optional)"), thanks: pgettext("widget", "Thank you for your feedback!"),
      rate: pgettext("widget", "How did we do?"), star: pgettext("widget", "{n} of 5"),
      comment: pgettext("widget", "Anything to add? (optional)"), sendRating: pgettext("widget", "Send rating"),
      emailPrompt: pgettext("widget", "Leave your email and we will write back:"),
      badEmail: pgettext("widget", "Please check the address."),
      prechat: pgettext("widget", "Before we start — who are you? Both are optional."),
      name: pgettext("widget", "Your name"), email: pgettext("widget", "Your email"),
      start: pgettext("widget", "Start chat"), skip: pgettext("widget", "Skip"),
      wait: pgettext("widget", "Too many messages: please wait {n} s.")
    };
  }
  var lang = (settings.locale || navigator.language || "en").toLowerCase().indexOf("zh") === 0 ? "zh-hans" : "en";
  var t = strings();
  function fmt(s, values) { return s.replace(/\{(\w+)\}/g, function (_, k) { return values[k]; }); }

  var state = {
    token: null, ws: null, retry: 0, timer: null, open: false, maxChars: 4000, connected: false, agentName: "",
    messages: {},          // id -> {el, body, text, seq, status}
    outbox: loadOutbox(),  // [{client_id, text}] not yet confirmed by the server
    streaming: {}          // message ids being generated
  };

  function load(key) { try { return localStorage.getItem(storeKey + ":" + key); } catch (e) { return null; } }
  function save(key, value) { key = storeKey + ":" + key; try { value === null ? localStorage.removeItem(key) : localStorage.setItem(key, value); } catch (e) { /* private mode */ } }
  function loadOutbox() { try { return JSON.parse(load("outbox") || "[]"); } catch (e) { return []; } }
  function saveOutbox() { save("outbox", JSON.stringify(state.outbox)); }
  function newClientId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "c" + Date.now().toString(36) + Math.random().toString(36).slice(2, 12);
  }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = text;
    return node;
  }
  function add(parent) { [].slice.call(arguments, 1).forEach(function (c) { parent.appendChild(c); }); return parent; }
  function attr(node, attrs) { Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); }); return node; }
  function button(cls, text, onClick, type) {
    var b = el("button", cls, text);
    b.type = type || "button";
    if (onClick) b.addEventListener("click", onClick);
    return b;
  }
  function field(cls, label, type) {
    var input = attr(el("input", cls), { "aria-label": label, placeholder: label });
    input.type = type || "text";
    return input;
  }

  // --- DOM, inside a shadow root -------------------------------------------------
  // A tag of its own (rules for div, section… never reach it) with inline !important styles, which beat any
  // stylesheet of the host page: its CSS can neither hide the widget nor become the containing block.
  var host = attr(el("helpdesk-widget"), { id: "helpdesk-widget-root", lang: lang === "en" ? "en" : "zh-Hans" });
  function hostStyle(name, value, important) { host.style.setProperty(name, value, important); }
  "display:block;visibility:visible;opacity:1;transform:none;filter:none;contain:none;position:static;width:0;height:0"
    .split(";").forEach(function (rule) { hostStyle(rule.split(":")[0], rule.split(":")[1], "important"); });
  // The host site's brand colour (only a value the browser reads as a colour). Text on it, and links in it,
  // keep WCAG AA contrast: a light brand colour gets dark text, and links fall back to the default blue.
  var brand = settings.primaryColor;
  if (typeof brand === "string" && window.CSS && CSS.supports("color", brand)) {
    hostStyle("--hd-primary", brand);
    var paint = document.createElement("canvas").getContext("2d");
    paint.fillStyle = brand;
    var rgb = /^#(..)(..)(..)$/.exec(paint.fillStyle);
    var lum = rgb ? [1, 2, 3].reduce(function (sum, i) {
      var c = parseInt(rgb[i], 16) / 255;
      return sum + [0, 0.2126, 0.7152, 0.0722][i] * (c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4));
    }, 0) : 0;
    if (1.05 / (lum + 0.05) < 4.5) { hostStyle("--hd-on-primary", "#1d2430"); hostStyle("--hd-link", "#1a4f9c"); }
  }
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  var css = el("link");
  css.rel = "stylesheet";
  css.href = base + "/static/widget.css";

  var launcher = attr(button("hd-launcher", null, function () { setOpen(!state.open, true); }),
    { "aria-expanded": "false", "aria-controls": "hd-panel" });
  // The one piece of markup: a constant icon.
  launcher.innerHTML = '<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true"><path fill="currentColor" d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"/></svg>';
  var launcherLabel = add(launcher, el("span", "hd-launcher-label")).lastChild;

  var panel = attr(el("section", "hd-panel"), { id: "hd-panel", role: "dialog" });
  if (settings.position === "left") { launcher.classList.add("hd-left"); panel.classList.add("hd-left"); }
  var humanBtn = button("hd-human", null, function () { sendFrame({ type: "request_human" }); });
  var closeBtn = button("hd-close", "×", function () { setOpen(false, true); });
  var banner = attr(el("div", "hd-banner"), { role: "status" });
  // A log: screen readers announce new messages; a reply being streamed is aria-busy until it is done.
  var list = attr(el("ol", "hd-messages"), { role: "log", "aria-live": "polite" });
  var typingText = el("span");
  var typing = attr(add(el("div", "hd-typing"), el("span", "hd-dots"), typingText), { "aria-live": "polite" });
  var input = attr(el("textarea", "hd-input"), { rows: 1, "aria-describedby": "hd-counter" });
  var counter = attr(el("span", "hd-counter"), { id: "hd-counter", "aria-live": "polite" });
  var stopBtn = button("hd-stop", null, function () { sendFrame({ type: "stop" }); });
  var sendBtn = button("hd-send", null, null, "submit");
  var form = add(el("form", "hd-form"), input, counter, stopBtn, sendBtn);
  panel.hidden = banner.hidden = typing.hidden = stopBtn.hidden = true;
  var title = el("h2", "hd-title");
  add(panel, add(el("header", "hd-header"), title, humanBtn, closeBtn), banner, list, typing, form);
  add(root, css, launcher, panel);
  // The panel's fixed words, set once the translations are in (mount).
  function label() {
    var name = settings.title || t.title;
    attr(launcher, { "aria-label": t.open }); launcherLabel.textContent = t.open;
    attr(panel, { "aria-label": name }); title.textContent = name;
    humanBtn.textContent = t.human; attr(closeBtn, { "aria-label": t.close });
    attr(input, { "aria-label": t.placeholder, placeholder: t.placeholder });
    stopBtn.textContent = t.stop; sendBtn.textContent = t.send;
  }

  function showBanner(text) { banner.textContent = text || ""; banner.hidden = !text; }
  function scrollDown() { list.scrollTop = list.scrollHeight; }

  function bubble(key, role) {
    var body = el("div", "hd-body"), item = add(el("li", "hd-msg hd-" + role), el("span", "hd-visually-hidden", { customer: t.you, bot: t.assistant, agent: t.agent, system: t.system }[role] + ": "), body);
    add(list, item);
    var entry = { el: item, body: body, text: "", seq: -1, status: "complete", role: role };
    state.messages[key] = entry;
    return entry;
  }
  function setText(entry, text) {
    entry.text = text;
    if (entry.role === "bot" || entry.role === "agent") renderMarkdown(entry.body, text);
    else entry.body.textContent = text;
  }
  // A line under a bubble saying where it stands (sending, not delivered, stopped, interrupted).
  function setNote(entry, text) {
    if (!entry.note) { if (!text) return; entry.note = entry.el.appendChild(el("div", "hd-note")); }
    entry.note.textContent = text || "";
    entry.note.hidden = !text;
  }

  // A small, safe Markdown: paragraphs, lists, **bold**, *italic*, `code`, ``` blocks and [links](https://…).
  // Every piece of text goes in through textContent; raw HTML in a reply stays visible text.
  function renderMarkdown(target, text) {
    target.textContent = "";
    var blocks = String(text).replace(/\r\n?/g, "\n").split(/\n{2,}|(?=^```)/m), fence = null;
    blocks.forEach(function (block) {
      if (fence) { fence.textContent += "\n\n" + block; if (/```\s*$/.test(block)) { fence.textContent = fence.textContent.replace(/```\s*$/, ""); fence = null; } return; }
      var m = /^```[^\n]*\n?([\s\S]*?)(```\s*)?$/.exec(block);
      if (m) { var pre = el("pre", "hd-code"); pre.textContent = m[1]; target.appendChild(pre); if (!m[2]) fence = pre; return; }
      var lines = block.split("\n"), listTag = null, list = null;
      lines.forEach(function (line) {
        var item = /^\s*(?:([-*•])|(\d+)[.)])\s+(.*)$/.exec(line);
        if (item) {
          var tag = item[1] ? "ul" : "ol";
          if (!list || listTag !== tag) { list = el(tag); listTag = tag; target.appendChild(list); }
          var li = el("li"); inline(li, item[3]); list.appendChild(li);
        } else if (line.trim()) {
          list = null;
          var last = target.lastChild;
          if (last && last.tagName === "P" && last.getAttribute("data-open")) { last.appendChild(el("br")); inline(last, line); }
          else { var p = el("p"); p.setAttribute("data-open", "1"); inline(p, line); target.appendChild(p); }
        }
      });
      if (target.lastChild && target.lastChild.removeAttribute) target.lastChild.removeAttribute("data-open");
    });
  }
  function inline(parent, text) {
    var pattern = /(`[^`]+`)|(\*\*[^*]+\*\*)|(\*[^*\s][^*]*\*)|(\[[^\]]+\]\((https?:\/\/[^\s)]+)\))/g, at = 0, m;
    while ((m = pattern.exec(text))) {
      if (m.index > at) parent.appendChild(document.createTextNode(text.slice(at, m.index)));
      if (m[1]) parent.appendChild(el("code", null, m[1].slice(1, -1)));
      else if (m[2]) parent.appendChild(el("strong", null, m[2].slice(2, -2)));
      else if (m[3]) parent.appendChild(el("em", null, m[3].slice(1, -1)));
      else { var a = el("a", null, /^\[([^\]]+)\]/.exec(m[4])[1]); a.href = m[5]; a.target = "_blank"; a.rel = "noopener noreferrer"; parent.appendChild(a); }
      at = pattern.lastIndex;
    }
    if (at < text.length) parent.appendChild(document.createTextNode(text.slice(at)));
  }

  // Where an answer came from: titles as text, links only to http(s) addresses.
  function setCitations(entry, citations) {
    if (entry.sources) { entry.sources.remove(); entry.sources = null; }
    if (!citations || !citations.length) return;
    var box = el("div", "hd-sources");
    box.appendChild(el("span", "hd-sources-label", t.sources));
    citations.forEach(function (c, i) {
      var safe = typeof c.url === "string" && /^https?:\/\//i.test(c.url);
      var item = el(safe ? "a" : "span", "hd-source", String(c.title || ""));
      if (safe) { item.href = c.url; item.target = "_blank"; item.rel = "noopener noreferrer"; }
      if (i) box.appendChild(document.createTextNode(" · "));
      box.appendChild(item);
    });
    entry.el.insertBefore(box, entry.note || null);
    entry.sources = box;
  }

  function upsert(message) {
    var entry = state.messages[message.id];
    if (!entry && message.client_id && state.messages["local:" + message.client_id]) {
      entry = state.messages["local:" + message.client_id];
      delete state.messages["local:" + message.client_id];
      state.messages[message.id] = entry;
    }
    if (!entry) entry = bubble(message.id, message.role);
    setText(entry, message.content);
    setCitations(entry, message.citations);
    if (message.agent && message.agent.name) {
      state.agentName = message.agent.name;
      if (!entry.author) entry.el.insertBefore(entry.author = el("div", "hd-author", message.agent.name), entry.body);
    }
    if (message.role === "bot" && message.status === "complete" && typeof message.id === "number") addThumbs(entry, message.id);
    if (message.feedback) onFeedback({ message_id: message.id, rating: message.feedback });
    entry.status = message.status;
    entry.el.classList.remove("hd-pending", "hd-failed-send");
    var streaming = message.status === "streaming";
    attr(entry.el, { "data-status": message.status, "data-id": message.id, "aria-busy": streaming });
    if (streaming) state.streaming[message.id] = true; else delete state.streaming[message.id];
    entry.el.classList.toggle("hd-streaming", streaming);
    setNote(entry, message.role === "bot" ? { cancelled: t.stopped, failed: t.interrupted }[message.status] : "");
    if (message.client_id) confirmSent(message.client_id);
    refreshStop();
    scrollDown();
    emit("message", message);
    return entry;
  }

  function confirmSent(clientId) {
    if (state.busy) { state.busy = false; state.retry = 0; showBanner(""); }
    var before = state.outbox.length;
    state.outbox = state.outbox.filter(function (m) { return m.client_id !== clientId; });
    if (state.outbox.length !== before) saveOutbox();
  }

  function onDelta(frame) {
    var entry = state.messages[frame.message_id] || bubble(frame.message_id, "bot");
    entry.el.classList.add("hd-streaming");
    attr(entry.el, { "aria-busy": true, "data-status": "streaming" });
    state.streaming[frame.message_id] = true;
    // seq 0 starts the text (over): a reply whose worker died is generated again and replaces its partial text.
    if (frame.seq === 0) { setText(entry, ""); entry.seq = -1; }
    // A piece missed (seq jumps) is not guessed at: "done" brings the whole text.
    if (frame.seq === entry.seq + 1) { setText(entry, entry.text + frame.text); entry.seq = frame.seq; }
    refreshStop();
    scrollDown();
  }

  // Thumbs on a finished bot reply (two thumbs-down in a row bring a colleague); a thumbs-down asks what was
  // missing, in a box the customer may ignore.
  function addThumbs(entry, id) {
    if (entry.thumbs) return;
    var box = attr(el("div", "hd-thumbs"), { role: "group", "aria-label": t.wasHelpful });
    // Plain glyphs with words beside them: no emoji font needed, clear to screen readers.
    [[1, "✓ " + t.helpful], [-1, "✗ " + t.notHelpful]].forEach(function (spec) {
      var b = button("hd-thumb", spec[1], function () {
        sendFrame({ type: "feedback", message_id: id, rating: spec[0] });
        if (spec[0] < 0) askWhy(entry, id); else if (entry.why) { entry.why.remove(); entry.why = null; }
      });
      add(box, attr(b, { "aria-pressed": "false", "data-rating": spec[0] }));
    });
    add(entry.el, box);
    entry.thumbs = box;
  }
  function askWhy(entry, id) {
    if (entry.why) return;
    var why = el("form", "hd-why"), text = field("hd-card-input", t.whyNot);
    text.maxLength = 2000;
    add(why, text, button("hd-send", t.send, null, "submit"));
    why.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (!text.value.trim()) return;
      sendFrame({ type: "feedback", message_id: id, rating: -1, comment: text.value.trim() });
    });
    add(entry.el, why);
    entry.why = why;
    text.focus();
    scrollDown();
  }
  function onFeedback(frame) {
    var entry = state.messages[frame.message_id];
    if (!entry || !entry.thumbs) return;
    entry.thumbs.querySelectorAll("button").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.getAttribute("data-rating") === String(frame.rating)));
    });
    // Thanked once the comment itself is stored: the acknowledgement of the thumb-down alone (sent first, and
    // under load answered after the comment was written) carries none.
    if (frame.comment && entry.why) {
      replaceKeepingFocus(entry.why, el("div", "hd-note", t.thanks));
      entry.why = null;
    }
  }

  // A form done with goes (or gives way to a thank-you); the focus it had goes back to the message box.
  function replaceKeepingFocus(old, replacement) {
    var had = old.contains(root.activeElement);
    if (replacement) old.replaceWith(replacement); else old.remove();
    if (had) input.focus();
  }
  function card(title) {
    var box = add(el("li", "hd-card"), el("div", "hd-card-title", title));
    add(list, box);
    scrollDown();
    return box;
  }
  // After a colleague resolves the conversation: a 1-5 rating with an optional comment.
  function showRating() {
    if (state.rating) return;
    var box = card(t.rate), stars = attr(el("div", "hd-stars"), { role: "group", "aria-label": t.rate }), chosen = 0;
    [1, 2, 3, 4, 5].forEach(function (n) {
      var b = button("hd-star", "★", function () {
        chosen = n;
        stars.querySelectorAll("button").forEach(function (s, i) { s.setAttribute("aria-pressed", String(i < n)); });
      });
      add(stars, attr(b, { "aria-label": fmt(t.star, { n: n }), "aria-pressed": "false" }));
    });
    var comment = field("hd-card-input", t.comment);
    comment.maxLength = 2000;
    add(box, stars, comment, button("hd-send", t.sendRating, function () {
      if (chosen) sendFrame({ type: "csat", score: chosen, comment: comment.value.trim() });
    }));
    state.rating = box;
  }
  // Outside working hours: an address for a colleague to write back to.
  function showEmailForm() {
    if (state.emailForm) return;
    var box = card(t.emailPrompt), form = el("form", "hd-card-form");
    var email = field("hd-card-input", t.emailPrompt, "email");
    email.required = true; email.autocomplete = "email";
    email.value = state.contactEmail || "";
    add(box, add(form, email, button("hd-send", t.send, null, "submit")));
    form.addEventListener("submit", function (e) { e.preventDefault(); sendFrame({ type: "contact", email: email.value.trim() }); });
    state.emailForm = box;
  }
  // WIDGET_PRECHAT_FORM: a name and an email before the first message, both optional, the form skippable.
  function prechatKey() { return "prechat:" + state.token; }
  function showPrechat() {
    var box = card(t.prechat), pre = el("form", "hd-prechat");
    var name = field("hd-card-input", t.name), email = field("hd-card-input", t.email, "email");
    name.autocomplete = "name"; name.maxLength = 255; email.autocomplete = "email";
    var u = settings.user || {};
    name.value = u.name || ""; email.value = u.email || "";
    add(box, add(pre, name, email, add(el("div", "hd-card-form"), button("hd-send", t.start, null, "submit"), button("hd-skip", t.skip, closePrechat))));
    email.addEventListener("input", function () { email.setCustomValidity(""); });
    pre.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var values = { name: name.value.trim(), email: email.value.trim() };
      if (!values.name && !values.email) return closePrechat();
      state.contactEmail = values.email;
      sendFrame({ type: "prechat", name: values.name, email: values.email });
    });
    state.prechat = { box: box, email: email, first: name };
    form.hidden = true;
  }
  function closePrechat() {
    save(prechatKey(), "1");
    if (!state.prechat) return;
    form.hidden = false;
    replaceKeepingFocus(state.prechat.box);
    state.prechat = null;
  }

  // The typing line: the bot thinking before its first word, or a colleague (by name) writing. Stop is
  // offered from the moment the bot starts thinking until its reply is done.
  function refreshStop() {
    var writing = Object.keys(state.streaming).some(function (id) { return state.messages[id] && state.messages[id].text; });
    var who = state.agentTyping ? "agent" : state.thinking && !writing ? "bot" : null;
    stopBtn.hidden = !(state.thinking || writing);
    typing.hidden = !who;
    typingText.textContent = who === "bot" ? t.typingBot : who ? (state.agentName ? fmt(t.typingAgent, { name: state.agentName }) : t.typingColleague) : "";
    if (who) scrollDown();
  }

  function onStatus(status, frame) {
    if (frame && frame.agent && frame.agent.name) state.agentName = frame.agent.name;
    var text = { waiting_human: t.waiting_human, human: state.agentName ? fmt(t.humanNamed, { name: state.agentName }) : t.human_joined, resolved: t.resolved }[status] || "";
    panel.setAttribute("data-status", status);
    humanBtn.hidden = status !== "bot";
    if (text) showBanner(text); else if (state.connected) showBanner("");
    if (status === "resolved" && frame && (frame.type === "status" || frame.rate)) showRating();
    if (status !== "resolved" && state.rating) { state.rating.remove(); state.rating = null; }
    if (frame && frame.offline) showEmailForm();
  }

  function handle(frame) {
    switch (frame.type) {
      case "history":
        list.textContent = "";
        state.rating = state.emailForm = state.prechat = null;
        form.hidden = false;
        state.messages = {};
        state.streaming = {};
        state.thinking = state.agentTyping = false;
        if (frame.limits && frame.limits.message_max_chars) state.maxChars = frame.limits.message_max_chars;
        updateCounter();
        if (frame.conversation.agent) state.agentName = frame.conversation.agent.name;
        if (!frame.messages.length) bubble("greeting", "system").body.textContent = settings.greeting || t.greeting;
        frame.messages.forEach(upsert);
        state.outbox.forEach(function (m) { if (!state.messages["local:" + m.client_id]) localBubble(m); });
        onStatus(frame.conversation.status, frame.conversation);
        if (frame.prechat_form && !state.outbox.length && !load(prechatKey())) showPrechat();
        refreshStop();
        // Opened by the customer before the conversation arrived: focus goes where it now belongs.
        if (state.focusWanted && state.open) focusFirst();
        state.focusWanted = false;
        flushOutbox();
        break;
      case "message": upsert(frame.message); break;
      case "delta": onDelta(frame); break;
      case "done": upsert(frame.message); break;
      case "status": onStatus(frame.status, frame); break;
      case "feedback": onFeedback(frame); break;
      case "prechat": closePrechat(); break;
      case "csat":
        if (state.rating) replaceKeepingFocus(state.rating, state.rating = add(el("li", "hd-card"), el("div", "hd-card-title", t.thanks)));
        break;
      case "typing":
        state[frame.who === "bot" ? "thinking" : "agentTyping"] = !!frame.active;
        refreshStop();
        break;
      case "error":
        if (frame.code === "busy") {  // nothing stored: the outbox goes again (same client_ids) after the wait
          showBanner(t.busy); state.busy = true; clearTimeout(state.busyTimer);
          state.busyTimer = setTimeout(flushOutbox, backoff(frame.retry_after || 1)); break;
        }
        if (frame.client_id) {
          var entry = state.messages["local:" + frame.client_id];
          if (entry) {
            entry.el.classList.remove("hd-pending");
            entry.el.classList.add("hd-failed-send");
            setNote(entry, t.failed + (frame.code === "message_too_long" ? ": " + fmt(t.tooLong, { n: entry.text.length, max: state.maxChars }) : ""));
          }
          confirmSent(frame.client_id);
        }
        if (frame.code === "invalid_email") {
          var box = state.prechat ? state.prechat.email : state.emailForm && state.emailForm.querySelector("input");
          if (box) { box.setCustomValidity(t.badEmail); box.reportValidity(); }
        }
        if (frame.retry_after) {  // a limit: close 4429 reconnects after as long
          showBanner(fmt(t.wait, { n: state.wait = frame.retry_after }));
          setTimeout(showBanner, state.wait * 1000);
        }
        console.warn("helpdesk:", frame.code, frame.detail);
        break;
    }
  }

  // --- connection ------------------------------------------------------------------
  // A signed-in user of the host site gets their own conversation on every device: the token is kept per user.
  function tokenKey() { return settings.user && settings.user.id != null ? "token:u:" + settings.user.id : "token"; }
  // A signed-in user's token is the key to their conversation: once they are gone (setUser, or a page rendered without
  // them) it is not left in this browser for the next visitor. The server finds their conversation again from a
  // signed identity.
  function forgetOtherUsers() {
    var prefix = storeKey + ":token:u:", keep = storeKey + ":" + tokenKey();
    try {
      Object.keys(localStorage).forEach(function (key) {
        if (key.indexOf(prefix) !== 0 || key === keep) return;
        localStorage.removeItem(storeKey + ":prechat:" + localStorage.getItem(key));
        localStorage.removeItem(key);
      });
    } catch (e) { /* private mode */ }
  }
  // One creation in flight, shared by every caller: opening the panel and sending at once both connect, and two
  // conversations would split the customer's in two (the socket on one token, the next reconnect on the other).
  // A token another tab of the site stored meanwhile wins, so that all its tabs keep one conversation.
  function createConversation() {
    if (state.creating) return state.creating;
    var key = tokenKey(), options = { method: "POST", headers: { "Accept": "application/json" } };
    if (settings.user) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify({ user: settings.user });
    }
    var creating = state.creating = fetch(base + "/api/v1/conversations", options)
      .then(function (r) {
        if (r.status === 403) {
          return r.json().then(function (e) {
            state.refused = true;
            showBanner(t.refusedIdentity);
            console.error("helpdesk: " + e.error + ": " + e.detail);
            throw new Error(e.error);
          });
        }
        if (r.status === 503 || r.status === 429) throw { wait: +r.headers.get("Retry-After") || 1 };  // busy
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (data) {
        if (!load(key)) save(key, data.token);
        if (key === tokenKey()) state.token = load(key) || data.token;
      });
    function done() { if (state.creating === creating) state.creating = null; }
    creating.then(done, done);
    return creating;
  }

  function connect() {
    if (state.refused || (state.ws && state.ws.readyState <= 1)) return;
    clearTimeout(state.timer);
    var ready = (state.token = state.token || load(tokenKey())) ? Promise.resolve() : createConversation();
    ready.then(function () {
      if (!state.token || (state.ws && state.ws.readyState <= 1)) return;
      var ws = new WebSocket(base.replace(/^http/, "ws") + "/ws/chat/" + state.token + "/");
      state.ws = ws;
      ws.onopen = function () { state.connected = true; state.retry = 0; showBanner(""); };
      ws.onmessage = function (ev) { try { handle(JSON.parse(ev.data)); } catch (e) { console.error("helpdesk:", e); } };
      ws.onclose = function (ev) {
        state.connected = false;
        state.ws = null;
        if (ev.code === 4404) { state.token = null; save(tokenKey(), null); reconnect(0); return; }
        if (ev.code === 4403) { state.refused = true; showBanner(t.refused); console.error("helpdesk: this origin is not allowed to embed the chat (WIDGET_ALLOWED_ORIGINS)"); return; }
        if (ev.code === 4429) return reconnect((state.wait || 30) * 1000);
        showBanner(ev.code === 1013 ? t.busy : t.offline);
        state.thinking = state.agentTyping = false;
        refreshStop();
        reconnect();
      };
    }).catch(function (e) { if (state.refused) return; var w = e && e.wait; showBanner(w ? t.busy : t.offline); reconnect(w && backoff(w)); });
  }
  // Not sooner than the server asked (s), jittered so that a crowd told to wait does not return at once.
  function backoff(s) { return Math.max(s * 1000, Math.min(30000, 500 * Math.pow(2, state.retry++))) * (1 + Math.random() / 2); }

  // One pending attempt at a time, backing off from half a second to 30 s (with jitter, so a restarted
  // server is not hit by every customer at the same instant).
  function reconnect(delay) {
    clearTimeout(state.timer);
    var wait = delay != null ? delay : Math.min(30000, 500 * Math.pow(2, state.retry++)) * (0.75 + Math.random() / 2);
    state.timer = setTimeout(connect, wait);
  }
  window.addEventListener("online", function () { if (!state.connected) { state.retry = 0; connect(); } });

  function live() { return state.ws && state.ws.readyState === 1; }
  function sendFrame(frame) { if (live()) state.ws.send(JSON.stringify(frame)); }
  function sendRaw(m) { sendFrame({ type: "message", text: m.text, client_id: m.client_id }); }
  function flushOutbox() { state.outbox.forEach(sendRaw); }

  function localBubble(m) {
    var entry = bubble("local:" + m.client_id, "customer");
    setText(entry, m.text);
    entry.el.classList.add("hd-pending");
    setNote(entry, t.sending);
    scrollDown();
  }

  function send(text) {
    text = text.trim();
    if (!text || text.length > state.maxChars) return false;
    var m = { client_id: newClientId(), text: text };
    state.outbox.push(m);
    saveOutbox();
    localBubble(m);
    if (live()) sendRaw(m); else connect();
    return true;
  }

  // --- UI events -------------------------------------------------------------------
  function focusFirst() { (state.prechat ? state.prechat.first : input).focus(); }
  // `byUser`: opened or closed by the customer (or the host page's script): focus follows. A panel
  // reopened by itself after a reload leaves the page's focus alone.
  function setOpen(open, byUser) {
    state.open = open;
    state.focusWanted = open && byUser && !state.connected;
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    host.classList.toggle("hd-is-open", open);
    if (open) { connect(); if (byUser) focusFirst(); scrollDown(); } else if (byUser) { launcher.focus(); }
    save("open", open ? "1" : null);
  }
  panel.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape" && !ev.isComposing) { ev.preventDefault(); setOpen(false, true); }
    // Full screen on a phone, the panel is all there is: Tab goes round inside it.
    if (ev.key === "Tab" && innerWidth <= 480) {
      var stops = [].filter.call(panel.querySelectorAll("button, input, textarea, a[href]"), function (n) { return !n.disabled && n.getClientRects().length; });
      var edge = ev.shiftKey ? stops[0] : stops[stops.length - 1];
      if (root.activeElement === edge) { ev.preventDefault(); stops[ev.shiftKey ? stops.length - 1 : 0].focus(); }
    }
  });
  form.addEventListener("submit", function (ev) { ev.preventDefault(); if (send(input.value)) { input.value = ""; updateCounter(); } });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit")); }
  });
  // The same limit as the server's (MESSAGE_MAX_CHARS, sent with the history): shown near it, enforced over it.
  function updateCounter() {
    var n = input.value.trim().length, over = n > state.maxChars;
    counter.textContent = over ? fmt(t.tooLong, { n: n, max: state.maxChars }) : n > state.maxChars * 0.8 ? n + " / " + state.maxChars : "";
    counter.classList.toggle("hd-over", over);
    input.setAttribute("aria-invalid", String(over));
    sendBtn.disabled = over;
  }
  input.addEventListener("input", updateCounter);

  // --- public API --------------------------------------------------------------------
  var listeners = {};
  function emit(name, payload) { (listeners[name] || []).forEach(function (fn) { try { fn(payload); } catch (e) { /* host's bug */ } }); }
  window.Helpdesk = {
    _loaded: true,
    open: function () { setOpen(true, true); },
    close: function () { setOpen(false, panel.contains(root.activeElement)); },
    toggle: function () { setOpen(!state.open, true); },
    on: function (name, fn) { (listeners[name] = listeners[name] || []).push(fn); },
    // The host site's user signed in or out: continue that user's conversation (or a new anonymous one).
    setUser: function (user) {
      var leaving = settings.user && settings.user.id != null && (!user || user.id !== settings.user.id);
      settings.user = user || null;
      if (leaving) {
        forgetOtherUsers();
        state.outbox = []; saveOutbox();  // their unsent messages are not sent as the next visitor's
        if (!user) save("token", null);   // signed out: the next visitor starts afresh
      }
      state.refused = false;
      state.creating = null;  // one in flight was the previous user's
      state.token = load(tokenKey());
      if (state.ws) { state.ws.onclose = null; state.ws.close(); state.ws = null; }
      state.connected = false;
      if (state.open) connect();
    }
  };

  // Asked once, before anything shows: may this site use the chat, and in the customer's language what does it
  // say? A site missing from WIDGET_ALLOWED_ORIGINS gets a console error and no widget, instead of a chat that
  // can never connect.
  function mount() {
    fetch(base + "/api/v1/widget?lang=" + lang).then(function (r) { return r.json(); }).then(function (config) {
      catalog = config.catalog || {};
      t = strings();
      if (config.origin_allowed !== false) return true;
      console.error("helpdesk: " + location.origin + " is not in WIDGET_ALLOWED_ORIGINS of " + base + ": the chat is not shown");
    }, function () { return true; }).then(function (show) {
      if (!show) return;
      label();
      document.body.appendChild(host);
      forgetOtherUsers();
      state.token = load(tokenKey());
      if (load("open") === "1" || state.outbox.length) setOpen(true, false);
    });
  }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
