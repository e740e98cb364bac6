// Formats in and out: a stored run as outside text (Perfetto / Chrome trace JSON, CSV), and
// outside text (ftrace kmem tracepoints, /proc/buddyinfo) as workloads.
export { exportPerfetto, PID_GUEST, PID_HOST, TID_HOST, type PerfettoStats, type TraceEvent } from './perfetto'
export { exportCountersCsv, exportEventsCsv, csvField, CSV_WHAT, COUNTERS_HEADER, EVENTS_HEADER, type CsvWhat } from './csv'
export { COUNTER_SAMPLES_DEFAULT } from './counters'
