// deckgen preview: lists the cards in the page's data; each side of a card is its own
// document in an iframe, with the note type's CSS, as Anki's reviewer shows it.
// URL options: ?night or ?light, ?desktop or ?phone, ?q=words (a search), ?all (every
// card's frames at once, for printing; otherwise frames are made as cards near the screen).
"use strict";
(() => {
  const data = JSON.parse(document.getElementById("deck-data").textContent);
  const version = document.querySelector('meta[name="deckgen-version"]').content;
  const params = new URLSearchParams(location.search);
  const STORE = "deckgen-preview";
  const VIEW = "deckgen-preview-view";
  const saved = readStored("localStorage", STORE);
  const state = {
    night: params.has("night") || (!params.has("light") && saved.night === true),
    desktop: params.has("desktop") || (!params.has("phone") && saved.desktop === true),
  };
  const frames = [];
  const entries = [];
  const topicSections = [];
  const topicLinks = [];

  // In each card's document: Anki's answer box calls _typeAnsPress on every key, and the
  // play buttons play the file beside the page.
  const FRAME_SCRIPT =
    "function _typeAnsPress() {}\n" +
    'document.addEventListener("click", (event) => {\n' +
    '  const button = event.target.closest(".replay-button");\n' +
    "  if (!button) return;\n" +
    "  event.preventDefault();\n" +
    "  new Audio(button.dataset.sound).play().catch(() => {});\n" +
    "});\n";

  // Storage may be off (some private windows and file pages throw on the first touch):
  // the page then works the same, only without remembering anything.
  function readStored(storage, key) {
    try {
      const value = JSON.parse(window[storage].getItem(key) || "{}");
      return value && typeof value === "object" ? value : {};
    } catch (error) {
      return {};
    }
  }

  function store(storage, key, value) {
    try {
      if (value === null) window[storage].removeItem(key);
      else window[storage].setItem(key, JSON.stringify(value));
    } catch (error) {
      // not remembered
    }
  }

  function showMode(frame) {
    const body = frame.contentDocument && frame.contentDocument.body;
    if (!body) return;
    body.classList.toggle("nightMode", state.night);
    body.classList.toggle("night_mode", state.night);
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function cardKey(card) {
    return `${card.id}.${card.ord + 1}`;
  }

  function frameDocument(card, html) {
    const night = state.night ? " nightMode night_mode" : "";
    return (
      '<!doctype html><html><head><meta charset="utf-8">' +
      '<meta name="viewport" content="width=device-width, initial-scale=1">' +
      `<style>${data.reviewerCss}</style></head>` +
      `<body class="card card${card.ord + 1}${night}">` +
      `<div id="qa"><style>${data.css[card.kind]}</style>${html}</div>` +
      `<script>${FRAME_SCRIPT}<\/script></body></html>`
    );
  }

  function fit(frame) {
    const doc = frame.contentDocument;
    if (!doc || !doc.documentElement) return;
    const height = Math.ceil(doc.documentElement.getBoundingClientRect().height);
    const border = frame.offsetHeight - frame.clientHeight;
    frame.style.height = `${Math.max(height, 24) + border}px`;
  }

  function makeFrame(card, side) {
    const frame = element("iframe");
    frame.title = `${cardKey(card)} ${side}`;
    frame.dataset.side = side;
    frame.dataset.card = cardKey(card);
    frame.addEventListener("load", () => {
      showMode(frame); // the mode may have been switched while the frame loaded
      fit(frame);
      // Images load and widths change after the first layout: keep the frame fitted.
      new ResizeObserver(() => fit(frame)).observe(frame.contentDocument.documentElement);
    });
    frame.srcdoc = frameDocument(card, side === "front" ? card.front : card.back);
    frames.push(frame);
    return frame;
  }

  function fill(entry) {
    if (entry.filled) return;
    entry.filled = true;
    for (const side of ["front", "back"]) {
      const holder = entry.node.querySelector(`.side.${side} .placeholder`);
      holder.replaceWith(makeFrame(entry.card, side));
    }
  }

  // Cards get their frames as they come near the screen, so that a deck of thousands of
  // cards opens at once. (Checked on scroll rather than with an IntersectionObserver, which
  // a headless browser with virtual time may never call.)
  const MARGIN = 1200;
  function fillVisible() {
    const bottom = window.innerHeight + MARGIN;
    for (const entry of entries) {
      if (entry.filled || entry.node.hidden) continue;
      const box = entry.node.getBoundingClientRect();
      if (box.top > bottom) break;
      if (box.bottom > -MARGIN) fill(entry);
    }
  }

  function renderEntry(card) {
    const node = element("article", "entry");
    node.id = `card-${cardKey(card)}`;
    const header = element("header");
    header.append(element("code", "id", card.id), element("span", "chip", card.card));
    if (card.retired) header.append(element("span", "chip retired", "retired"));
    for (const tag of card.tags) header.append(element("span", "chip tag", tag));
    header.append(element("span", "where", `${data.source}:${card.line}`));
    node.append(header);
    const sides = element("div", "sides");
    for (const side of ["front", "back"]) {
      const figure = element("figure", `side ${side}`);
      figure.append(element("figcaption", "", side === "front" ? "Front" : "Back"));
      if (card.error) {
        figure.append(element("p", "error", `Not previewed: ${card.error}`));
      } else {
        figure.append(element("div", "placeholder"));
      }
      sides.append(figure);
    }
    node.append(sides);
    const topic = data.topics[card.topic];
    const haystack = [card.text, card.id, card.card, topic.name, ...card.tags].join(" ");
    return { card, node, filled: Boolean(card.error), text: haystack.toLowerCase() };
  }

  function renderProblems() {
    const panel = document.getElementById("problems");
    if (!data.problems.length) return;
    const count = data.problems.length;
    const noun = count === 1 ? "problem" : "problems";
    panel.append(element("h2", "", `${count} ${noun} in ${data.source}`));
    const list = element("ol");
    for (const problem of data.problems) {
      const item = element("li");
      item.append(
        element("code", "", problem.where),
        document.createTextNode(`: ${problem.message} `),
        element("span", "code", problem.code),
      );
      list.append(item);
    }
    panel.append(list);
    panel.append(
      element(
        "p",
        "",
        data.deck === null
          ? "No card can be shown until these are fixed."
          : "The questions that have a problem are left out; every other card is shown.",
      ),
    );
    panel.hidden = false;
  }

  function renderList() {
    document.getElementById("title").textContent = data.deck || data.source;
    document.title = `${data.deck || data.source} - deckgen preview`;
    const list = document.getElementById("cards");
    const nav = document.getElementById("topics");
    data.topics.forEach((topic, index) => {
      const section = element("section", "topic");
      section.id = `topic-${index + 1}`;
      const heading = element("h2", "", topic.name);
      const count = element("span", "n");
      heading.append(" ", count);
      section.append(heading);
      list.append(section);
      topicSections.push({ section, count, shown: 0 });
      const link = element("a");
      link.href = `#${section.id}`;
      link.append(element("span", "", topic.name), element("span", "n"));
      nav.append(link);
      topicLinks.push(link);
    });
    for (const card of data.cards) {
      const entry = renderEntry(card);
      topicSections[card.topic].section.append(entry.node);
      entries.push(entry);
    }
  }

  function parseQuery(query) {
    return query
      .toLowerCase()
      .split(/\s+/)
      .filter(Boolean)
      .map((term) => {
        const match = /^(tag|id|kind):(.*)$/.exec(term);
        return match ? { field: match[1], value: match[2] } : { field: "text", value: term };
      });
  }

  function matches(entry, terms) {
    const card = entry.card;
    return terms.every(({ field, value }) => {
      if (field === "tag") return card.tags.some((tag) => tag.toLowerCase().includes(value));
      if (field === "id") return card.id.includes(value);
      if (field === "kind") return card.kind === value;
      return entry.text.includes(value);
    });
  }

  function applySearch(query) {
    const terms = parseQuery(query);
    for (const topic of topicSections) topic.shown = 0;
    let shown = 0;
    for (const entry of entries) {
      const visible = matches(entry, terms);
      entry.node.hidden = !visible;
      if (visible) {
        shown += 1;
        topicSections[entry.card.topic].shown += 1;
      }
    }
    topicSections.forEach((topic, index) => {
      topic.section.hidden = topic.shown === 0;
      topic.count.textContent = String(topic.shown);
      topicLinks[index].lastChild.textContent = String(topic.shown);
      topicLinks[index].classList.toggle("empty", topic.shown === 0);
    });
    const total = data.cards.length;
    const notes = `${data.notes} ${data.notes === 1 ? "note" : "notes"}`;
    document.getElementById("count").textContent = terms.length
      ? `${shown} of ${total} cards`
      : `${total} ${total === 1 ? "card" : "cards"}, ${notes}`;
    document.getElementById("nothing").hidden = shown > 0 || total === 0;
    fillVisible();
  }

  function applyToggles() {
    document.body.classList.toggle("dark", state.night);
    document.body.classList.toggle("desktop", state.desktop);
    const theme = document.getElementById("theme");
    theme.setAttribute("aria-pressed", String(state.night));
    const width = document.getElementById("width");
    width.textContent = state.desktop ? "Desktop" : "Phone";
    width.setAttribute("aria-pressed", String(state.desktop));
    frames.forEach(showMode);
    store("localStorage", STORE, { night: state.night, desktop: state.desktop });
  }

  function topEntry() {
    return entries.find((entry) => !entry.node.hidden && entry.node.getBoundingClientRect().bottom > 60);
  }

  function restoreView(search) {
    const view = readStored("sessionStorage", VIEW);
    store("sessionStorage", VIEW, null);
    if (typeof view.query === "string" && !params.has("q")) search.value = view.query;
    applySearch(search.value);
    if (typeof view.card === "string") {
      const node = document.getElementById(`card-${view.card}`);
      if (node) node.scrollIntoView();
    }
  }

  function watchServer() {
    const status = document.getElementById("status");
    const poll = async () => {
      try {
        const response = await fetch("__deckgen__/version", { cache: "no-store" });
        if (!response.ok) return; // another server: no live reload
        const body = await response.json();
        status.hidden = true;
        if (String(body.version) !== version) {
          const top = topEntry();
          const query = document.getElementById("search").value;
          store("sessionStorage", VIEW, { card: top ? cardKey(top.card) : null, query });
          location.reload();
          return;
        }
      } catch (error) {
        status.textContent = "deckgen is not serving: this is the last version";
        status.hidden = false;
      }
      setTimeout(poll, 1000);
    };
    setTimeout(poll, 1000);
  }

  function start() {
    renderProblems();
    renderList();
    const search = document.getElementById("search");
    search.value = params.get("q") || "";
    let timer = 0;
    search.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => applySearch(search.value), 120);
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "/" && document.activeElement !== search) {
        event.preventDefault();
        search.focus();
      }
    });
    document.getElementById("theme").addEventListener("click", () => {
      state.night = !state.night;
      applyToggles();
    });
    document.getElementById("width").addEventListener("click", () => {
      state.desktop = !state.desktop;
      applyToggles();
      fillVisible();
    });
    applyToggles();
    restoreView(search);
    if (params.has("all")) {
      entries.forEach(fill);
    } else {
      let timer = 0;
      const later = () => {
        clearTimeout(timer);
        timer = setTimeout(fillVisible, 50);
      };
      window.addEventListener("scroll", later, { passive: true });
      window.addEventListener("resize", later);
      fillVisible();
    }
    if (location.protocol === "http:" || location.protocol === "https:") watchServer();
  }

  start();
})();
