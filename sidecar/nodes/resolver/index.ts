export * from './create-node-resolver'
export * from './pick-candidate'
export { inputSignatureKey } from './input-signature'
export { normalizeRepository } from './installed-packs'
