export { type KdLossOptions, kdLoss } from "./loss";
