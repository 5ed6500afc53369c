package wait

// PeakHeap is peakHeap for the engine tests of package wait_test.
var PeakHeap = peakHeap

// MaxLine is maxLine for the engine tests.
const MaxLine = maxLine
