// A sentence's text as the server stores it (no citation markers), mapped onto
// its DOM: where character N of it falls, as a (text node, offset) pair for a
// Range. The player lights the current word with it (static/js/player.js), the
// notes their quoted words (static/js/highlights.js); neither changes the DOM.
window.CompanionText = (() => {
  "use strict";

  const maps = new WeakMap();

  function textMap(sentence) {
    let map = maps.get(sentence);
    if (map) return map;
    map = [];
    let offset = 0;
    const walker = document.createTreeWalker(sentence, NodeFilter.SHOW_TEXT, {
      acceptNode: (node) => (node.parentElement.closest(".fnref") ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT),
    });
    while (walker.nextNode()) {
      map.push({ node: walker.currentNode, start: offset });
      offset += walker.currentNode.length;
    }
    maps.set(sentence, map);
    return map;
  }

  function locate(map, offset) {
    for (let i = map.length - 1; i >= 0; i--) {
      if (map[i].start <= offset) return [map[i].node, Math.min(offset - map[i].start, map[i].node.length)];
    }
    return [map[0].node, 0];
  }

  return { textMap, locate };
})();
