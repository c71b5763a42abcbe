/**
 * Step capture: one training step's forward and backward pass recorded as a flat list of SPI kernel
 * calls ({@link dev.metaforge.api.capture.CapturedProgram}) and replayed for later steps with the same
 * shapes, without the tensor layer's tape, scopes and per-op checks. Switched on per spec with
 * {@code "capture": true}; see {@link dev.metaforge.api.capture.StepCapture}.
 */
package dev.metaforge.api.capture;
