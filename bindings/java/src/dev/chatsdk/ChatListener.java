package dev.chatsdk;

/**
 * Receives a client's events, in order, on the {@link java.util.concurrent.Executor}
 * given to {@link ChatClient.Builder#executor}. Override what you need; every
 * event first reaches {@link #onEvent}, then its typed method.
 */
public interface ChatListener {
  /** Every event, before the typed method. */
  default void onEvent(ChatEvent event) {}

  default void onConnection(ChatEvent.Connection event) {}

  default void onChannelListDiff(ChatEvent.ChannelListDiff event) {}

  default void onTimelineDiff(ChatEvent.TimelineDiff event) {}

  default void onOp(ChatEvent.OpChanged event) {}

  default void onTyping(ChatEvent.Typing event) {}

  default void onPresence(ChatEvent.Presence event) {}

  default void onReceipt(ChatEvent.Receipt event) {}

  default void onProfiles(ChatEvent.Profiles event) {}

  default void onCacheEvicted(ChatEvent.CacheEvicted event) {}

  default void onHistoryLoaded(ChatEvent.HistoryLoaded event) {}

  default void onError(ChatEvent.Error event) {}

  /** A page of members answering {@link ChatClient#listMembers} (also when refused). */
  default void onMembersPage(ChatEvent.MembersPage event) {}

  /** A listener method threw (the wrapper keeps going), or the event loop
   *  itself failed. Called on the same executor. */
  default void onListenerFailure(Throwable error) {}
}
