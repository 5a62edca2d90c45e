export * from './places.module';
export * from './places.service';
export * from './entities/place.entities';
export * from './dtos/place.dto';
