import { Body, Controller, Get, Post, Res } from '@nestjs/common';
import { ApiBadRequestResponse, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Roles } from '../../auth/roles.decorator.js';
import { RegisterGatewayDto } from './dto/register-gateway.dto.js';
import { GatewayRegistry, type GatewayView } from './gateway-registry.service.js';

@ApiTags('gateways')
@Controller('v1/gateways')
@Roles('admin')
export class GatewaysController {
  constructor(private readonly registry: GatewayRegistry) {}

  @Post()
  @ApiOperation({ summary: 'Register a gateway (201) or re-register it (200): kind, attestation policy, signing keys' })
  @ApiCreatedResponse({ description: 'Registered; applies to this instance at once, to the others within 30 s' })
  @ApiOkResponse({ description: 'Re-registered (keys or policy replaced)' })
  @ApiBadRequestResponse({ description: 'Problem details naming each invalid field or key' })
  async register(@Body() dto: RegisterGatewayDto, @Res({ passthrough: true }) res: Response): Promise<GatewayView> {
    const { gateway, created } = await this.registry.register(dto);
    res.status(created ? 201 : 200);
    return gateway;
  }

  @Get()
  @ApiOperation({ summary: 'Registered gateways with their policy and public keys' })
  list(): Promise<GatewayView[]> {
    return this.registry.list();
  }
}
