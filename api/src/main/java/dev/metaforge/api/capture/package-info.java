/**
 * Step capture: one training step's forward and backward pass recorded as a flat list of SPI kernel
 * calls ({@link dev.metaforge.api.capture.CapturedProgram}) and replayed for later steps with the same
 * shapes, without the tensor layer's tape, scopes and per-op checks. A training spec run by
 * {@code Trainer} captures by default when its objective can be captured ({@code "capture"} absent;
 * {@code true} requires it, {@code false} turns it off); in Java, a {@code TrainingLoop} captures when
 * given a capture ({@code withCapture}). See {@link dev.metaforge.api.capture.StepCapture}.
 */
package dev.metaforge.api.capture;
