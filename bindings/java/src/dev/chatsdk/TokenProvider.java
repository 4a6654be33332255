package dev.chatsdk;

/**
 * Supplies the JWT when the client needs one (on connect and after the current
 * token expired). Called on the client's event thread while the library waits:
 * return a cached token, fetch new ones elsewhere. Returning null, or throwing,
 * keeps the stored token.
 */
@FunctionalInterface
public interface TokenProvider {
  String token();
}
