/** Team chat routes (DESIGN §6 Chat): channels, members, and messages with their reactions, pins and read state. */
import { router } from '../../lib/env.js';
import { channelRoutes } from './channels.js';
import { entryRoutes } from './entries.js';
import { memberRoutes } from './members.js';

export const chatRoutes = router().route('/', channelRoutes).route('/', memberRoutes).route('/', entryRoutes);
