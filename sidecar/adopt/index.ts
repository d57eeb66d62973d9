/** @module Adopting a ComfyUI the user already has: read it (never changed), then make an environment from it. */
export { scanInstall, type InstallScan, type ScannedPack, type ScannedComfyui, type ScanNote } from './scan-install'
export { adoptInstall, ADOPTED_PIPS_GROUP, DEFAULT_ADOPT_CHOICES, type AdoptChoices, type DevNodePreview, type AdoptOptions, type AdoptPreview, type AdoptResult } from './adopt'
