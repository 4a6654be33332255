package dev.chatsdk;

/**
 * A failed chatsdk call. {@link #name()} is the stable snake_case status name
 * of the C API and the wire protocol ({@code "not_member"}, {@code "misuse"}, ...).
 * Unchecked, so commands compose in lambdas; every command documents it.
 */
public class ChatException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int status;
  private final String name;
  private final String detail;
  private final boolean retryable;

  /** Called from the JNI glue. */
  public ChatException(int status, String name, String detail, boolean retryable) {
    super(name + " (" + status + ")" + (detail == null || detail.isEmpty() ? "" : ": " + detail));
    this.status = status;
    this.name = name;
    this.detail = detail == null ? "" : detail;
    this.retryable = retryable;
  }

  /** The chat_status number. */
  public int status() { return status; }

  /** The status name, e.g. {@code "invalid_argument"}. */
  public String name() { return name; }

  /** The library's detail message ("" when none). */
  public String detail() { return detail; }

  /** True when the same request may succeed later unchanged. */
  public boolean retryable() { return retryable; }
}
