#include "server/store/rows.hpp"

#include <charconv>

namespace chatsdk::server::store {

void read_message(const Query& q, int first, std::string_view channel, proto::Message& out) {
  int c = first;
  out.channel.assign(channel);
  out.seq = q.u64(c++);
  out.version = q.u64(c++);
  out.sender = q.str(c++);
  out.client_id = q.str(c++);
  out.body = q.str(c++);
  out.created_at = q.i64(c++);
  out.edited_at = q.i64(c++);
  out.deleted = q.flag(c++);
  out.reply_to = q.u64(c++);
  out.reply_count = q.u32(c++);
  out.metadata.json = q.str(c++);
  out.reactions = decode_reactions(q.text(c++));
  out.mentions = decode_mentions(q.text(c++));
}

void read_channel(const Query& q, int first, std::int64_t& id, proto::ChannelInfo& out,
                  proto::Version& info_version) {
  int c = first;
  id = q.i64(c++);
  out.channel = q.str(c++);
  out.kind = static_cast<proto::ChannelKind>(q.u32(c++));
  out.name = q.str(c++);
  out.is_public = q.flag(c++);
  out.created_by = q.str(c++);
  out.created_at = q.i64(c++);
  out.metadata.json = q.str(c++);
  out.last_seq = q.u64(c++);
  out.version = q.u64(c++);
  out.member_count = q.u32(c++);
  info_version = q.u64(c++);
}

std::vector<proto::Reaction> decode_reactions(std::string_view s) {
  std::vector<proto::Reaction> out;
  std::size_t i = 0;
  while (i < s.size()) {
    const auto sp = s.find(' ', i);
    if (sp == std::string_view::npos) break;
    const auto end = std::min(s.find(' ', sp + 1), s.size());
    proto::Reaction r;
    r.emoji.assign(s.substr(i, sp - i));
    std::from_chars(s.data() + sp + 1, s.data() + end, r.count);
    out.push_back(std::move(r));
    i = end + 1;
  }
  return out;
}

std::string encode_reactions(const std::vector<proto::Reaction>& reactions) {
  std::string s;
  for (const auto& r : reactions) {
    if (r.count == 0) continue;
    if (!s.empty()) s += ' ';
    s += r.emoji;
    s += ' ';
    s += std::to_string(r.count);
  }
  return s;
}

std::string encode_mentions(const std::vector<std::string>& users) {
  if (users.empty()) return {};
  std::string s = "[";
  for (const auto& u : users) {
    if (s.size() > 1) s += ',';
    s += '"';
    s += u;
    s += '"';
  }
  s += ']';
  return s;
}

std::vector<std::string> decode_mentions(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while ((i = s.find('"', i)) != std::string_view::npos) {
    const auto end = s.find('"', i + 1);
    if (end == std::string_view::npos) break;
    out.emplace_back(s.substr(i + 1, end - i - 1));
    i = end + 1;
  }
  return out;
}

}  // namespace chatsdk::server::store
