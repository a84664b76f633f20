export { PortInUseError } from './ports.js';
export { DEFAULT_PORTS, type Demo, type DemoOptions, startDemo } from './start-demo.js';
