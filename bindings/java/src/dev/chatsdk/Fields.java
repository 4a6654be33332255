package dev.chatsdk;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/** Typed reads of the parsed JSON maps (missing or null fields read as 0 / "" / empty). */
final class Fields {
  private Fields() {}

  static long num(Map<String, Object> m, String k) {
    Object v = m.get(k);
    return v instanceof Number ? ((Number) v).longValue() : 0L;
  }

  static String str(Map<String, Object> m, String k) {
    Object v = m.get(k);
    return v == null ? "" : v.toString();
  }

  static boolean bool(Map<String, Object> m, String k) {
    Object v = m.get(k);
    if (v instanceof Boolean) return (Boolean) v;
    return v instanceof Number && ((Number) v).longValue() != 0;
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> obj(Map<String, Object> m, String k) {
    Object v = m.get(k);
    return v instanceof Map ? (Map<String, Object>) v : null;
  }

  @SuppressWarnings("unchecked")
  static List<Object> list(Map<String, Object> m, String k) {
    Object v = m.get(k);
    return v instanceof List ? (List<Object>) v : Collections.emptyList();
  }

  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> objs(Map<String, Object> m, String k) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Object o : list(m, k)) {
      if (o instanceof Map) out.add((Map<String, Object>) o);
    }
    return out;
  }

  static List<String> strs(Map<String, Object> m, String k) {
    List<String> out = new ArrayList<>();
    for (Object o : list(m, k)) out.add(String.valueOf(o));
    return Collections.unmodifiableList(out);
  }
}
