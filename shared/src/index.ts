export * from "./export/float-model";
export * from "./model/types";
