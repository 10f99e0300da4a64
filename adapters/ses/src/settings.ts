/** An SES email account's transport settings: one schema, the kit's, for the API and the adapter. */
export { SesSettings } from '@comms/adapter-kit';
