// The benchmark's plan, for the lab shell and `render`.
export { type Cell, cellId, planCells } from "./cells";
export { guestCellScript, iperf3ClientArgs } from "./guestCell";
export { iperf3ServerFiles, iperf3ServerStep } from "./iperf3Server";
export { benchmarkStep } from "./benchmarkStep";
