export { isGradEnabled, setGradEnabled, noGrad, record, zeroGrad } from "./tape";
