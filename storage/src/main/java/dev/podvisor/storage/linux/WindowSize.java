package dev.podvisor.storage.linux;

/**
 * A terminal's size as {@code struct winsize} holds it ({@code TIOCGWINSZ}/{@code TIOCSWINSZ}).
 *
 * @param rows    {@code ws_row}, in characters
 * @param columns {@code ws_col}, in characters
 */
public record WindowSize(int rows, int columns) {
}
