// Small helpers shared by every folder; depends on nothing.
export * from './assert'
