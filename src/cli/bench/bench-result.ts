/** One measured figure of a benchmark suite, as `spillway bench` collects and reports it. */
export interface BenchResult {
  suite: string;
  case: string;
  subject: string;
  value: number;
  unit: string;
  higherIsBetter: boolean;
}
