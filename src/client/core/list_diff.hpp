// Computes insert/update/remove steps that turn one keyed list into another.
//
// Why a generic diff instead of hand-written per-change diffs: view-models are
// rebuilt from the store after each input, so every path (live event, sync,
// history, outbox state) yields correct diffs by construction, and a row's
// key is kept across updates (no remove+insert for an in-place change).
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "chatsdk/events.hpp"

namespace chatsdk::client {

/// Appends to `ops` the steps that transform `old_items` into `new_items`
/// (both keyed by `.key`, keys unique). Applying them in order to old_items
/// yields new_items. A row whose position changed is removed and re-inserted.
template <class T>
void diff_lists(const std::vector<T>& old_items, const std::vector<T>& new_items,
                std::vector<DiffOp<T>>& ops) {
  std::unordered_map<std::string, std::size_t> in_new;
  for (std::size_t i = 0; i < new_items.size(); ++i)
    in_new.emplace(new_items[i].key, i);
  std::vector<const T*> cur;
  cur.reserve(old_items.size());
  // removals, from the back so earlier indexes stay valid
  for (std::size_t i = old_items.size(); i-- > 0;) {
    if (in_new.count(old_items[i].key) == 0)
      ops.push_back(DiffOp<T>{DiffKind::remove, i, old_items[i].key, {}, {}});
  }
  for (const T& t : old_items)
    if (in_new.count(t.key) != 0) cur.push_back(&t);
  for (std::size_t i = 0; i < new_items.size(); ++i) {
    const T& want = new_items[i];
    if (i < cur.size() && cur[i]->key == want.key) {
      if (!(*cur[i] == want)) ops.push_back(DiffOp<T>{DiffKind::update, i, want.key, want, {}});
      continue;
    }
    // moved from a later position, or new
    for (std::size_t j = i + 1; j < cur.size(); ++j) {
      if (cur[j]->key == want.key) {
        ops.push_back(DiffOp<T>{DiffKind::remove, j, want.key, {}, {}});
        cur.erase(cur.begin() + static_cast<std::ptrdiff_t>(j));
        break;
      }
    }
    ops.push_back(DiffOp<T>{DiffKind::insert, i, want.key, want, {}});
    cur.insert(cur.begin() + static_cast<std::ptrdiff_t>(i), &want);
  }
}

/// Applies diff steps to a list (used by tests and by apps that mirror lists).
template <class T>
void apply_diff(std::vector<T>& items, const std::vector<DiffOp<T>>& ops) {
  for (const auto& op : ops) {
    switch (op.kind) {
      case DiffKind::reset:
        items = op.items;
        break;
      case DiffKind::insert:
        items.insert(items.begin() + static_cast<std::ptrdiff_t>(op.index), op.item);
        break;
      case DiffKind::update:
        items[op.index] = op.item;
        break;
      case DiffKind::remove:
        items.erase(items.begin() + static_cast<std::ptrdiff_t>(op.index));
        break;
    }
  }
}

}  // namespace chatsdk::client
