package dev.chatsdk;

/**
 * The JNI surface (bindings/java/jni/chatsdk_jni.c): one native per C API call.
 * Handles are the C pointers as longs; 0 is "no client" (the C API answers
 * {@code misuse}). Every failure is thrown as a {@link ChatException}.
 */
final class Native {
  private Native() {}

  static {
    // -Dchatsdk.jni.library=/abs/path/libchatsdk_jni.so wins over java.library.path.
    String path = System.getProperty("chatsdk.jni.library");
    if (path != null && !path.isEmpty()) {
      System.load(path);
    } else {
      System.loadLibrary("chatsdk_jni");
    }
  }

  static native String version();
  static native String statusName(int status);
  static native String statusStr(int status);

  static native long create(String url, String db, String deviceId, String token, int historyPage,
      int heartbeatMs, int backoffInitialMs, int backoffMaxMs, long cacheCapBytes, long tokenContext);
  static native long tokenContextCreate(TokenProvider provider);
  static native void tokenContextFree(long ctx);
  static native void destroy(long h);
  static native void setToken(long h, String jwt);
  static native void connect(long h);
  static native void disconnect(long h);
  static native void suspend(long h);
  static native void resume(long h);
  static native void wakeup(long h);
  static native int state(long h);
  static native String userId(long h);

  static native void poll(long h, int timeoutMs);
  static native String nextEventJson(long h);

  static native long sendText(long h, String channel, String body, long replyTo, String[] mentions,
      String metadata, long tag);
  static native long edit(long h, String channel, long seq, String clientId, String body,
      String metadata, long tag);
  static native long delete(long h, String channel, long seq, String clientId, long tag);
  static native long react(long h, String channel, long seq, String clientId, String emoji,
      boolean add, long tag);
  static native long markRead(long h, String channel, long seq, long tag);
  static native long createGroup(long h, String channelId, String name, String[] members,
      boolean isPublic, long tag);
  static native long createDirect(long h, String otherUser, long tag);
  static native long invite(long h, String channel, String[] users, long tag);
  static native long removeMembers(long h, String channel, String[] users, long tag);
  static native long join(long h, String channel, long tag);
  static native long leave(long h, String channel, long tag);
  /** isPublic: -1 unchanged, 0 / 1 sets it; null name / metadata: unchanged. */
  static native long updateChannel(long h, String channel, String name, int isPublic,
      String metadata, long tag);
  /** role: the chat_role number (0 member, 1 moderator, 2 owner); others are refused. */
  static native long setRole(long h, String channel, String user, int role, long tag);
  static native long setProfile(long h, String displayName, String avatarUrl, long tag);
  static native void retry(long h, long op, long tag);
  static native void cancel(long h, long op);

  static native void typing(long h, String channel);
  static native void typingStop(long h, String channel);
  static native void queryPresence(long h, String[] users, long tag);
  static native void fetchProfiles(long h, String[] users, long tag);
  static native void listMembers(long h, String channel, String after, int limit, long tag);
  static native void openTimeline(long h, String channel);
  static native void closeTimeline(long h, String channel);
  static native void loadOlder(long h, String channel, long tag);
  static native void loadNewer(long h, String channel, long tag);

  static native String channelsJson(long h);
  static native String pendingOpsJson(long h);
  static native String messagesJson(long h, String channel, int newest);
  static native String timelineJson(long h, String channel);
  static native String membersJson(long h, String channel);
  static native String typingUsersJson(long h, String channel);
}
