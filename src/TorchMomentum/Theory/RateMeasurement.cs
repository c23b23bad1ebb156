namespace TorchMomentum.Theory;

/// <summary>
/// The linear rate a path of iterates converges (or diverges) at, as <see cref="HeavyBall.MeasuredRate"/>
/// measures it, and whether the path left the range of numbers double holds with all their digits: down to 0
/// (it converged within that many steps) or up past the largest double (it diverged within that many steps).
/// A rate is measured on the steps before that, so a path that reaches 0 after many steps still has one.
/// </summary>
/// <param name="Rate">
/// The measured rate; null when fewer than 4 steps were left to measure on (the path is that short, or it
/// reached 0 or overflowed that soon: lr*h = 1 without momentum reaches 0 exactly in one step).
/// </param>
/// <param name="ConvergedWithin">
/// The first step from which every iterate is 0 or below double's normal range (about 2.2e-308, where digits
/// start to be lost); null when the path has not got there by its last step.
/// </param>
/// <param name="DivergedWithin">The first step whose iterate is no longer finite; null when all are.</param>
public readonly record struct RateMeasurement(double? Rate, int? ConvergedWithin, int? DivergedWithin);
