/* sphinxext_balloon: hover descriptions for the fields of checked samples.

   Each sample's box carries a field map (data-balloon-fields); _static/balloon-fields.js
   holds the descriptions, per schema and key. The map is the schema's name, then one
   entry per line that shows fields, all separated by blanks: "[LINE:]FIELD[,FIELD...]",
   LINE (counted from 0) left out when it is the previous entry's plus one; FIELD is
   "[COLUMN=]KEY": the field runs from COLUMN (0 when left out) to the next field's column
   or the line's end, notes and blanks around it left out. KEY is opaque (a JSON pointer,
   percent-encoded), ".NAME" for a sibling of the key before it, empty for a field without
   a description. sphinxext_balloon/render.py (field_map) writes the map.

   Once the page has loaded, each field's text is wrapped in a span.balloon-field whose
   title is its description: the hover text, and the accessible description. Without this
   script the sample is its text alone. An entry this script cannot read, or a key without
   a description, is left out; the rest of the page is untouched. */
(function () {
  "use strict";

  function decode(text) {
    try {
      return decodeURIComponent(text);
    } catch (error) {
      return "";
    }
  }

  /* {line: [{column, key}]}, each line's fields in order; the schema's name. A key is
     "*" (the label: known once the text is) or decoded, "." for a sibling kept as is. */
  function parseMap(map) {
    var entries = map.split(" ");
    var lines = {};
    var line = -1;
    entries.slice(1).forEach(function (entry) {
      var head = /^(\d+):/.exec(entry);
      line = head ? Number(head[1]) : line + 1;
      lines[line] = entry.slice(head ? head[0].length : 0).split(",").map(function (field) {
        var start = /^(\d+)=/.exec(field);
        var key = field.slice(start ? start[0].length : 0);
        var sibling = key.charAt(0) === ".";
        key = key === "*" ? key : (sibling ? "." : "") + decode(key.slice(sibling ? 1 : 0));
        return { column: start ? Number(start[1]) : 0, key: key };
      });
    });
    return { schema: entries[0], lines: lines };
  }

  /* The block's text nodes as pieces of lines, outside the prompt and the notes. */
  function pieces(pre) {
    var found = [];
    var line = 0;
    var column = 0;
    var walker = document.createTreeWalker(pre, NodeFilter.SHOW_TEXT);
    for (var node = walker.nextNode(); node; node = walker.nextNode()) {
      var aside = node.parentNode.closest(".balloon-prompt, .balloon-annotation");
      var start = 0;
      for (var i = 0; i <= node.data.length; i++) {
        if (i < node.data.length && node.data[i] !== "\n") continue;
        if (!aside && i > start) {
          found.push({ node: node, from: start, to: i, line: line, column: column });
        }
        if (i < node.data.length) {
          line += 1;
          column = 0;
        } else {
          column += i - start;
        }
        start = i + 1;
      }
    }
    return found;
  }

  /* Columns [from, to) of the line's text in [start, end), blanks around it left out,
     and the label it starts with (render.py's LABEL). */
  function trimmed(parts, start, end) {
    var text = "";
    var first = null;
    parts.forEach(function (p) {
      var a = Math.max(start, p.column);
      var b = Math.min(end, p.column + p.to - p.from);
      if (a >= b) return;
      if (first === null) first = a;
      text += p.node.data.slice(p.from + a - p.column, p.from + b - p.column);
    });
    var lead = text.length - text.replace(/^\s+/, "").length;
    var label = /^[ \t]*([!-9;<>-~]+)/.exec(first === start ? text : "");
    return [first + lead, first + text.replace(/\s+$/, "").length, label ? label[1] : ""];
  }

  /* Wrap [from, to) of the line in spans titled `title`: one per text piece it covers. */
  function mark(parts, from, to, title, cuts) {
    parts.forEach(function (p) {
      var a = Math.max(from, p.column);
      var b = Math.min(to, p.column + p.to - p.from);
      if (a >= b) return;
      var list = cuts.get(p.node) || [];
      list.push({ from: p.from + a - p.column, to: p.from + b - p.column, title: title });
      cuts.set(p.node, list);
    });
  }

  function apply(cuts) {
    cuts.forEach(function (list, node) {
      list.sort(function (x, y) { return x.from - y.from; });
      var fragment = document.createDocumentFragment();
      var at = 0;
      list.forEach(function (cut) {
        if (cut.from < at) return; // overlapping entries: the first one wins
        fragment.appendChild(document.createTextNode(node.data.slice(at, cut.from)));
        var span = document.createElement("span");
        span.className = "balloon-field";
        span.title = cut.title;
        span.textContent = node.data.slice(cut.from, cut.to);
        fragment.appendChild(span);
        at = cut.to;
      });
      fragment.appendChild(document.createTextNode(node.data.slice(at)));
      node.parentNode.replaceChild(fragment, node);
    });
  }

  function describe(box, descriptions) {
    var map = parseMap(box.getAttribute("data-balloon-fields") || "");
    var titles = descriptions[map.schema];
    var pre = box.querySelector("pre");
    if (!titles || !pre) return;
    var fields = map.lines;
    var byLine = {};
    pieces(pre).forEach(function (p) { (byLine[p.line] = byLine[p.line] || []).push(p); });
    var cuts = new Map();
    var last = "";
    Object.keys(fields)
      .sort(function (a, b) { return a - b; })
      .forEach(function (line) {
        var parts = byLine[line] || [];
        var list = fields[line];
        list.forEach(function (field, i) {
          if (!field.key) return;
          var end = i + 1 < list.length ? list[i + 1].column : Infinity;
          var range = trimmed(parts, field.column, end);
          var key = field.key;
          if (key === "*") key = range[2];
          else if (key.charAt(0) === ".") key = last.slice(0, last.lastIndexOf("/") + 1) + key.slice(1);
          last = key;
          var own = Object.prototype.hasOwnProperty.call(titles, key);
          var title = own ? titles[key] : "";
          if (typeof title === "string" && title && range[0] < range[1]) {
            mark(parts, range[0], range[1], title, cuts);
          }
        });
      });
    apply(cuts);
  }

  function run() {
    var descriptions = window.BALLOON_FIELDS || {};
    var boxes = document.querySelectorAll("[data-balloon-fields]");
    for (var i = 0; i < boxes.length; i++) {
      try {
        describe(boxes[i], descriptions);
      } catch (error) {
        // one odd sample must not keep the others from their titles
      }
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", run);
  } else {
    run();
  }
})();
