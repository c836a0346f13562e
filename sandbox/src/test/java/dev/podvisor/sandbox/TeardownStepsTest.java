package dev.podvisor.sandbox;

import dev.podvisor.sandbox.log.LogfmtLog;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TeardownStepsTest {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final LogfmtLog log = new LogfmtLog(out, LogfmtLog.Level.DEBUG, Map.of());

    private List<String> lines() {
        return out.toString(StandardCharsets.UTF_8).lines().toList();
    }

    @Test
    void stagesRunInOrderAndEachStepIsTimedAtDebugLevel() {
        List<String> ran = Collections.synchronizedList(new ArrayList<>());
        new TeardownSteps()
                .then("a", () -> ran.add("a"))
                .together(List.of(TeardownSteps.step("b", () -> ran.add("b")), TeardownSteps.step("c", () -> ran.add("c"))))
                .then("d", () -> ran.add("d"))
                .run(log);
        assertEquals(4, ran.size(), ran.toString());
        assertEquals("a", ran.getFirst());
        assertEquals(List.of("b", "c"), ran.subList(1, 3).stream().sorted().toList(), "the group ran between a and d");
        assertEquals("d", ran.getLast());
        for (String step : List.of("a", "b", "c", "d")) {
            assertTrue(lines().stream().anyMatch(l -> l.contains("level=debug msg=\"teardown step\" step=" + step + " duration_ms=")),
                    step + " timed: " + lines());
        }
    }

    @Test
    void stepsOfOneStageRunAtTheSameTime() {
        // each step waits for the other to have started: run one after the other, the first would wait in vain
        CountDownLatch bothStarted = new CountDownLatch(2);
        List<Boolean> met = Collections.synchronizedList(new ArrayList<>());
        Runnable meet = () -> {
            bothStarted.countDown();
            try {
                met.add(bothStarted.await(10, TimeUnit.SECONDS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        new TeardownSteps().together(List.of(TeardownSteps.step("x", meet), TeardownSteps.step("y", meet))).run(log);
        assertEquals(List.of(true, true), met);
    }

    @Test
    void everyStepRunsAndEveryFailureIsLoggedWithItsStep() {
        List<String> ran = Collections.synchronizedList(new ArrayList<>());
        new TeardownSteps()
                .then("first", () -> {
                    ran.add("first");
                    throw new IllegalStateException("first broke");
                })
                .together(List.of(
                        TeardownSteps.step("left", () -> {
                            ran.add("left");
                            throw new IllegalStateException("left broke");
                        }),
                        TeardownSteps.step("right", () -> {
                            ran.add("right");
                            throw new java.io.UncheckedIOException(new java.io.IOException("right broke"));
                        }),
                        TeardownSteps.step("middle", () -> ran.add("middle"))))
                .then("last", () -> ran.add("last"))
                .run(log);
        assertEquals(List.of("first", "last", "left", "middle", "right"), ran.stream().sorted().toList());
        assertEquals("last", ran.getLast(), "the last stage waited for the group");
        for (String step : List.of("first", "left", "right")) {
            assertTrue(lines().stream().anyMatch(l -> l.contains("level=warn msg=\"cleanup step failed\" step=" + step)
                    && l.contains(step + " broke")), step + ": " + lines());
        }
        assertFalse(lines().stream().anyMatch(l -> l.contains("failed\" step=middle")), lines().toString());
    }

    @Test
    void aTimedStepOutsideATeardownIsLoggedAndItsFailureGoesToTheCaller() {
        var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> TeardownSteps.timed("release", () -> {
                    throw new IllegalStateException("busy");
                }, log));
        assertEquals("busy", e.getMessage());
        assertTrue(lines().stream().anyMatch(l -> l.contains("msg=\"teardown step\" step=release duration_ms=")), lines().toString());
        assertFalse(lines().stream().anyMatch(l -> l.contains("cleanup step failed")), "the caller decides: " + lines());
    }

    @Test
    void nothingIsTimedBelowDebugLevel() {
        LogfmtLog info = new LogfmtLog(out, LogfmtLog.Level.INFO, Map.of());
        new TeardownSteps().then("quiet", () -> { }).together(List.of()).run(info);
        assertEquals(List.of(), lines());
    }
}
