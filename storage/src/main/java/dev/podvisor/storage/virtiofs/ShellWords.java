package dev.podvisor.storage.virtiofs;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a command-line fragment into words the way a POSIX shell does, without any expansion: words are separated
 * by unquoted blanks (space, tab, newline); single quotes keep everything literally; double quotes keep everything
 * except that a backslash escapes {@code "}, {@code \}, {@code $}, {@code `} and newline; outside quotes a backslash
 * makes the next character literal. {@code ''} and {@code ""} produce an empty word.
 */
public final class ShellWords {
    private ShellWords() {
    }

    /**
     * @param text the fragment, e.g. {@code -o 'cache=none' --thread-pool-size=4}
     * @return the words, in order; empty for blank text
     * @throws IllegalArgumentException with "unterminated single quote", "unterminated double quote" or
     *                                  "trailing backslash" (the caller adds which entry it was)
     */
    public static List<String> split(String text) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        boolean inWord = false;
        int i = 0;
        int n = text.length();
        while (i < n) {
            char c = text.charAt(i);
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                if (inWord) {
                    words.add(word.toString());
                    word.setLength(0);
                    inWord = false;
                }
                i++;
            } else if (c == '\'') {
                int end = text.indexOf('\'', i + 1);
                if (end < 0) {
                    throw new IllegalArgumentException("unterminated single quote");
                }
                word.append(text, i + 1, end);
                inWord = true;
                i = end + 1;
            } else if (c == '"') {
                i++;
                boolean closed = false;
                while (i < n) {
                    char d = text.charAt(i);
                    if (d == '"') {
                        closed = true;
                        i++;
                        break;
                    }
                    if (d == '\\' && i + 1 < n && "\"\\$`\n".indexOf(text.charAt(i + 1)) >= 0) {
                        if (text.charAt(i + 1) != '\n') {
                            word.append(text.charAt(i + 1));
                        }
                        i += 2;
                        continue;
                    }
                    word.append(d);
                    i++;
                }
                if (!closed) {
                    throw new IllegalArgumentException("unterminated double quote");
                }
                inWord = true;
            } else if (c == '\\') {
                if (i + 1 >= n) {
                    throw new IllegalArgumentException("trailing backslash");
                }
                if (text.charAt(i + 1) != '\n') {
                    word.append(text.charAt(i + 1));
                    inWord = true;
                }
                i += 2;
            } else {
                word.append(c);
                inWord = true;
                i++;
            }
        }
        if (inWord) {
            words.add(word.toString());
        }
        return words;
    }
}
