export { shortHash, shortHashWithSize, sampleRanges } from './short-hash'
export { fullHash, type FullHashOptions } from './full-hash'
